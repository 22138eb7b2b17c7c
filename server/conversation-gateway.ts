import { Client, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/common';
import { CsChannel, CsChartVersion } from '../common/search-attributes';
import type { Channel, ConversationSettings, InboundMessage, TurnResponse } from '../common/types';
import { CONVERSATION_CLOSED, conversation, messageUpdate } from '../workflows/conversation';

/** The conversation has ended (goodbye or inactivity): the message belongs in a new one. */
export class ConversationClosedError extends Error {}
/** The workflow did not answer in time; the message is kept and a retry returns the answer. */
export class ReplyTimeoutError extends Error {}

export const workflowIdOf = (conversationId: string) => `conv-${conversationId}`;

export interface ConversationRef {
  id: string;
  userId: string;
  channel: Channel;
  /** The chart version pinned when the conversation was created (null for conversations older than the registry). */
  chartVersion: number | null;
  /** Whether the workflow has recorded a turn: then a plain (cheaper) Update reaches it. */
  started: boolean;
}

/** The API's only door into Temporal: deliver a message to a conversation workflow and read its view. */
export class ConversationGateway {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly settings: ConversationSettings,
    private readonly replyTimeoutMs: number,
  ) {}

  /**
   * Run the turn as an Update whose id is the stored message's, so retries are idempotent. A conversation
   * whose workflow may not exist yet gets update-with-start.
   */
  async deliver(conv: ConversationRef, msg: InboundMessage): Promise<TurnResponse> {
    const updateId = `msg-${msg.messageId}`;
    const turn = this.withReplyTimeout(async () => {
      if (conv.started) {
        try {
          return await this.client.workflow.getHandle(workflowIdOf(conv.id)).executeUpdate(messageUpdate, { args: [msg], updateId });
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err; // else: start it below
        }
      }
      return this.client.workflow.executeUpdateWithStart(messageUpdate, {
        args: [msg],
        updateId,
        startWorkflowOperation: this.startOperation(conv),
      });
    });
    return turn.catch((err) => {
      throw isClosed(err) ? new ConversationClosedError(`conversation ${conv.id} has ended`) : err;
    });
  }

  private startOperation(conv: ConversationRef) {
    return new WithStartWorkflowOperation(conversation, {
      workflowId: workflowIdOf(conv.id),
      taskQueue: this.taskQueue,
      args: [
        {
          conversationId: conv.id,
          userId: conv.userId,
          channel: conv.channel,
          ...(conv.chartVersion !== null ? { chartVersion: conv.chartVersion } : {}),
          settings: this.settings,
        },
      ],
      workflowIdConflictPolicy: 'USE_EXISTING',
      // An ended conversation is never restarted under the same id.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: CsChannel, value: conv.channel },
        ...(conv.chartVersion !== null ? [{ key: CsChartVersion, value: conv.chartVersion }] : []),
      ],
      memo: { userId: conv.userId, chartVersion: conv.chartVersion },
    });
  }

  private async withReplyTimeout(run: () => Promise<TurnResponse>): Promise<TurnResponse> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ReplyTimeoutError('the conversation did not answer in time')), this.replyTimeoutMs);
    });
    try {
      return await Promise.race([run(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** An ended conversation: its id cannot be started again, or its workflow refused the message by failure type. */
function isClosed(err: unknown): boolean {
  if (err instanceof WorkflowExecutionAlreadyStartedError) return true;
  return err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === CONVERSATION_CLOSED;
}
