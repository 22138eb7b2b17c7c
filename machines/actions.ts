import type { TurnAction } from '../common/types';
import type { ChartContext, KnownOrder } from './types';

// Order actions the bot can take for the user, after a yes to a confirmation naming the order and the effect.
// Which action fits a topic and an order is decided here (pure); the platform adapter executes it exactly once.

export type OrderActionType = 'order_cancelled' | 'address_changed' | 'return_opened' | 'reship_requested' | 'complaint_filed';

export interface PendingAction {
  type: OrderActionType;
  orderId: string;
  product: string;
  /** For `address_changed`: the new address, once the user has given it. */
  address?: string;
}

/** A message that reads as a mainland shipping address (province/city/district and a street-level part). */
const ADDRESS = /(?:省|市|区|县|自治州)[^\n]{0,40}(?:路|街|道|巷|号|村|镇|小区|大厦|栋|单元|室|楼)/;
export function addressIn(text: string): string | null {
  const t = text.normalize('NFKC').trim();
  return ADDRESS.test(t) && t.length >= 8 ? t.replace(/^(?:新地址|改成|改为|地址)[:：是为]?\s*/, '').slice(0, 120) : null;
}

/** Days within which a delivered order can be returned without reason. */
export const RETURN_WINDOW_DAYS = 7;

/** The action the topic asks for on this order, if the order allows it now. */
export function actionFor(intent: string, order: KnownOrder, stalledDays: number): OrderActionType | null {
  switch (intent) {
    case 'order.cancel':
      return order.status === 'paid' ? 'order_cancelled' : null;
    case 'order.change_address':
      return order.status === 'paid' ? 'address_changed' : null;
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
