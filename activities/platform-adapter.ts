// What the bot needs from the platform's own systems (accounts, shop orders), as an interface. The
// project's stand-in (platform/store.ts) implements it; a real deployment plugs in the platform's APIs.

export const ORDER_STATUSES = ['paid', 'shipped', 'delivered', 'cancelled', 'refunding', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** An order as the platform reports it (plain JSON: it travels through workflow history). */
export interface OrderFacts {
  orderId: string;
  product: string;
  amount: number;
  shippingFee: number;
  status: OrderStatus;
  remoteRegion: boolean;
  /** The order's shop ships free at or above this paid amount (yuan), except to remote regions. */
  freeShippingThreshold: number;
  carrier: string | null;
  trackingNo: string | null;
  createdAt: string;
  shippedAt: string | null;
  deliveredAt: string | null;
}

/** A platform user as the bot may see them. */
export interface CustomerFacts {
  userId: string;
  nickname: string;
  tier: string;
}

export interface PlatformAdapter {
  /** The order if it belongs to the user; another user's order is as good as unknown. */
  findOrder(userId: string, orderId: string): Promise<OrderFacts | null>;
  /** The user, or null when the platform does not know them (e.g. a guest). */
  findCustomer(userId: string): Promise<CustomerFacts | null>;
}
