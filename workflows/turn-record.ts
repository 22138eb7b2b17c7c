import type { InboundMessage, TurnRecord, TurnResponse } from '../common/types';
import { stateName, type ConversationSnapshot } from '../machines/conversation';
import { turnEvents } from '../machines/events';

/**
 * What a turn hands the conversation store: the response without reply ids (the store adds them), the replies
 * numbered from `firstSeq`, the conversation's state and the turn's event-log rows. Pure.
 */
export function turnRecord(t: {
  conversationId: string;
  msg: InboundMessage | null;
  before: ConversationSnapshot;
  after: ConversationSnapshot;
  chartVersion: number;
  tier: string | null;
  firstSeq: number;
}): TurnRecord {
  const ctx = t.after.context;
  const state = stateName(t.after);
  const response: Omit<TurnResponse, 'replies'> = {
    conversationId: t.conversationId,
    messageId: t.msg ? (t.msg.clientMessageId ?? t.msg.messageId) : '',
    state,
    ...(ctx.lastIntent ? { intent: ctx.lastIntent } : {}),
    ...(ctx.emotion ? { emotion: ctx.emotion } : {}),
    ...(ctx.handoff ? { handoff: { status: ctx.handoff.status, ...(ctx.handoff.queue ? { queue: ctx.handoff.queue } : {}) } } : {}),
    actions: ctx.actions ?? [],
  };
  const replies = ctx.outbox.map((r, i) => ({ ...r, seq: t.firstSeq + i, sender: 'bot' as const }));
  return {
    conversationId: t.conversationId,
    userMessageId: t.msg?.messageId ?? null,
    turn: ctx.turn,
    replies,
    response,
    state,
    tier: t.tier,
    closed: t.after.status === 'done',
    event: {
      channel: ctx.channel,
      intent: ctx.lastIntent?.name ?? null,
      topic: ctx.topic?.intent ?? null,
      emotion: ctx.emotion?.label ?? null,
      chartVersion: t.chartVersion,
      types: turnEvents(t.before, t.after, t.msg !== null),
      payload: { trigger: t.msg ? 'message' : 'timer', replies: replies.length, actions: ctx.actions ?? [] },
    },
  };
}

/** The response of a turn that was not recorded (only while replaying histories from before the store). */
export const unrecordedResponse = (r: TurnRecord): TurnResponse => ({
  ...r.response,
  replies: r.replies.map(({ text, kind, options }) => ({ id: '', text, kind, options })),
});
