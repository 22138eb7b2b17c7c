import type { LookupOrderInput, OrderLookup } from '../machines/types';
import type { PlatformAdapter } from './platform-adapter';

const DAY_MS = 86_400_000;
/** The tier of a user the platform does not know (e.g. a guest). */
const UNKNOWN_TIER = 'standard';

/** Look up the user's order; another user's order is reported as not found. */
export function makeLookupOrder(platform: PlatformAdapter, now: () => number = Date.now) {
  return async function lookupOrder(input: LookupOrderInput): Promise<OrderLookup> {
    const order = await platform.findOrder(input.userId, input.orderId);
    if (!order) return { found: false };
    return {
      found: true,
      freeShippingThreshold: order.freeShippingThreshold,
      order: {
        orderId: order.orderId,
        product: order.product,
        amount: order.amount,
        shippingFee: order.shippingFee,
        status: order.status,
        remoteRegion: order.remoteRegion,
        carrier: order.carrier,
        trackingNo: order.trackingNo,
        daysSinceDelivered: order.deliveredAt ? Math.floor((now() - Date.parse(order.deliveredAt)) / DAY_MS) : null,
      },
    };
  };
}

/** The user's tier as the platform knows it, read when a conversation starts. */
export function makeLookupCustomer(platform: PlatformAdapter) {
  return async function lookupCustomer(input: { userId: string }): Promise<{ tier: string }> {
    const customer = await platform.findCustomer(input.userId);
    return { tier: customer?.tier ?? UNKNOWN_TIER };
  };
}
