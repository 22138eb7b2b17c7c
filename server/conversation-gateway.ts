import { Client, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/common';
import { CsChannel, CsUserTier } from '../common/search-attributes';
import type { Channel, ConversationSettings, ConversationView, InboundMessage, TurnResult } from '../common/types';
import { CONVERSATION_CLOSED, conversation, messageUpdate, viewQuery } from '../workflows/conversation';

/** The conversation has ended (goodbye or inactivity): the message belongs in a new one. */
export class ConversationClosedError extends Error {}
/** The workflow did not answer in time; the message is kept and a retry returns the answer. */
export class ReplyTimeoutError extends Error {}

export const workflowIdOf = (conversationId: string) => `conv-${conversationId}`;

export interface ConversationRef {
  id: string;
  userId: string;
  channel: Channel;
  userTier: string;
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
   * Run the turn as an Update; `updateId` makes retries idempotent. A conversation that may not have
   * a workflow yet gets update-with-start; a running one a plain (cheaper) update.
   */
  async deliver(conv: ConversationRef, msg: InboundMessage, updateId: string, started: boolean): Promise<TurnResult> {
    const turn = this.withReplyTimeout(async () => {
      if (started) {
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
      args: [{ conversationId: conv.id, userId: conv.userId, channel: conv.channel, userTier: conv.userTier, settings: this.settings }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      // An ended conversation is never restarted under the same id.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: CsChannel, value: conv.channel },
        { key: CsUserTier, value: conv.userTier },
      ],
      memo: { userId: conv.userId },
    });
  }

  private async withReplyTimeout(run: () => Promise<TurnResult>): Promise<TurnResult> {
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

  async view(conversationId: string): Promise<ConversationView> {
    return this.client.workflow.getHandle(workflowIdOf(conversationId)).query(viewQuery);
  }
}

function isClosed(err: unknown): boolean {
  if (err instanceof WorkflowExecutionAlreadyStartedError) return true;
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && cause.type === CONVERSATION_CLOSED) return true;
    return /conversation has ended/.test(String(cause?.message ?? err.message));
  }
  return false;
}
