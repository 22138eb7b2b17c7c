import type { EventType } from '../common/types';
import { stateName, type ConversationSnapshot } from './conversation';

/** What one turn did, read from the chart before and after it: one event-log row each (besides the turn's own). */
export function turnEvents(before: ConversationSnapshot, after: ConversationSnapshot, fromMessage: boolean): EventType[] {
  const ctx = after.context;
  const state = stateName(after);
  const events: EventType[] = [];
  if (fromMessage) events.push('message_received');
  if (ctx.nlu) events.push('understood');
  if (ctx.outbox.some((r) => r.kind === 'answer')) events.push('answered');
  if (ctx.expecting === 'choice') events.push('clarified');
  if (ctx.outbox.some((r) => r.offer)) events.push('offer_shown');
  if (ctx.expecting === 'actionConfirm' && ctx.pendingAction) events.push('action_requested');
  const orderActions = (ctx.actions ?? []).filter((a) => a.type !== 'handoff' && a.type !== 'coupon');
  if (orderActions.length > 0) events.push('action_confirmed');
  if (orderActions.some((a) => a.status === 'done')) events.push('action_done');
  if (orderActions.some((a) => a.status === 'refused')) events.push('action_refused');
  if (ctx.coupon?.issued && !ctx.coupon.repeated) events.push('coupon_issued');
  if (ctx.coupon && !ctx.coupon.issued) events.push('coupon_refused');
  if (ctx.handoff && ctx.handoff.ticketId !== before.context.handoff?.ticketId) events.push('handoff_requested', 'handoff_queued');
  if (state === 'resolved' && stateName(before) !== 'resolved') events.push('resolved');
  if (ctx.rejections > before.context.rejections) events.push('rejected');
  if (after.status === 'done') events.push('closed');
  return events;
}
