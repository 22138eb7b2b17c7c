import type { TurnAction } from '../common/types';
import type { ChartContext, KnownOrder } from './types';

// Order actions the bot can take for the user, after a yes to a confirmation naming the order and the effect.
// Which action fits a topic and an order is decided here (pure); the platform adapter executes it exactly once.

export type OrderActionType = 'order_cancelled' | 'return_opened' | 'reship_requested' | 'complaint_filed';

export interface PendingAction {
  type: OrderActionType;
  orderId: string;
  product: string;
}

/** Days within which a delivered order can be returned without reason. */
export const RETURN_WINDOW_DAYS = 7;

/** The action the topic asks for on this order, if the order allows it now. */
export function actionFor(intent: string, order: KnownOrder, stalledDays: number): OrderActionType | null {
  switch (intent) {
    case 'order.cancel':
      return order.status === 'paid' ? 'order_cancelled' : null;
    case 'order.return_refund':
      return order.status === 'delivered' && (order.daysSinceDelivered ?? Infinity) <= RETURN_WINDOW_DAYS ? 'return_opened' : null;
    case 'order.damaged_wrong':
      return order.status === 'delivered' ? 'reship_requested' : null;
    case 'order.logistics':
      return order.status === 'shipped' && (order.daysSinceLastEvent ?? 0) >= stalledDays ? 'complaint_filed' : null;
    default:
      return null;
  }
}

/** The action to offer after answering the current topic, when the chart offers actions and the order allows one. */
export function offerableAction(context: ChartContext): PendingAction | null {
  const { topic, order, params } = context;
  if (!params.offerActions || !topic || !order) return null;
  const type = actionFor(topic.intent, order, params.stalledDays);
  return type ? { type, orderId: order.orderId, product: order.product } : null;
}

/** What the platform answered, as the turn's `actions` entry. */
export function actionRecord(pending: PendingAction, result: { id: string; status: 'done' | 'refused'; reason?: string }): TurnAction {
  return { type: pending.type, id: result.id, status: result.status, orderId: pending.orderId, ...(result.reason ? { reason: result.reason } : {}) };
}
