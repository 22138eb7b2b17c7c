import type { DataSource } from 'typeorm';
import type { Snowflake } from '../common/snowflake';
import type { TurnRecord, TurnResponse } from '../common/types';
import { ConversationStore } from '../db/conversation-store';
import type { CouponStore } from '../db/coupon-store';
import type { CouponOutcome, IssueCouponInput, RequestHandoffInput } from '../machines/types';

/** Record a turn through the conversation store (the one owner of conversation data); idempotent. */
export function makeRecordTurn(store: ConversationStore) {
  return async function recordTurn(record: TurnRecord): Promise<TurnResponse> {
    return store.recordTurn(record);
  };
}

/** Mark the conversation closed once it has ended (goodbye or inactivity); idempotent. */
export function makeCloseConversation(store: ConversationStore) {
  return async function closeConversation(input: { conversationId: string; reason: 'goodbye' | 'inactivity' }): Promise<void> {
    await store.close(input.conversationId);
  };
}

/**
 * Queue a human handoff; a retried call finds the open ticket instead of opening a second one. The
 * conversation's own handoff status is recorded with the turn, by the conversation store.
 */
export function makeRequestHandoff(ds: DataSource, ids: Snowflake) {
  return async function requestHandoff(input: RequestHandoffInput): Promise<{ ticketId: string; status: 'queued'; queue?: string }> {
    const [row] = await ds.query(
      `WITH created AS (
         INSERT INTO handoffs (id, conversation_id, status, reason, queue) VALUES ($1, $2, 'queued', $3, $4)
         ON CONFLICT (conversation_id) WHERE status <> 'closed' DO NOTHING RETURNING id, queue)
       SELECT id, queue FROM created UNION ALL SELECT id, queue FROM handoffs WHERE conversation_id = $2 AND status <> 'closed' LIMIT 1`,
      [ids.next(), input.conversationId, input.reason, input.queue ?? 'general'],
    );
    // Inputs recorded before queues existed get the answer they got then (no queue).
    return { ticketId: String(row.id), status: 'queued', ...(input.queue ? { queue: row.queue } : {}) };
  };
}

/**
 * Compensate an upset user: at most once per incident and within budget (the coupon store decides both in one
 * transaction); a retried activity gets the same coupon back.
 */
export function makeIssueCoupon(coupons: CouponStore) {
  return async function issueCoupon(input: IssueCouponInput): Promise<CouponOutcome> {
    return coupons.issue(input);
  };
}
