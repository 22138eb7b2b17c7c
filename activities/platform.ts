import type { LookupOrderInput, OrderLookup } from '../machines/types';
import { FREE_SHIPPING_THRESHOLD, type OrderFacts } from '../platform/store';

/** What the bot needs from the platform's systems; PlatformStore is our stand-in implementation. */
export interface PlatformAdapter {
  findOrder(userId: string, orderId: string): Promise<OrderFacts | null>;
}

const DAY_MS = 86_400_000;

/** Look up the user's order; another user's order is reported as not found. */
export function makeLookupOrder(platform: PlatformAdapter, now: () => number = Date.now) {
  return async function lookupOrder(input: LookupOrderInput): Promise<OrderLookup> {
    const order = await platform.findOrder(input.userId, input.orderId);
    if (!order) return { found: false, freeShippingThreshold: FREE_SHIPPING_THRESHOLD };
    return {
      found: true,
      freeShippingThreshold: FREE_SHIPPING_THRESHOLD,
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
