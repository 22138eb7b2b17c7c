// What the bot needs from the platform's own systems (accounts, shop orders, wallet), as an interface. The
// project's stand-in (platform/store.ts) implements it; a real deployment plugs in the platform's APIs.
// Everything here is plain JSON: it travels through workflow history.

export const ORDER_STATUSES = ['paid', 'shipped', 'delivered', 'cancelled', 'refunding', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const ACCOUNT_STATUSES = ['normal', 'restricted', 'banned'] as const;
export const LIVE_PERMISSIONS = ['none', 'granted', 'revoked'] as const;
export const RECHARGE_STATUSES = ['pending', 'credited', 'failed', 'refunded'] as const;
export const WITHDRAWAL_STATUSES = ['reviewing', 'paid', 'failed'] as const;

export interface LogisticsEvent {
  at: string;
  text: string;
}

/** An order as the platform reports it. */
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
  /** Oldest first. */
  logisticsEvents: LogisticsEvent[];
  createdAt: string;
  shippedAt: string | null;
  deliveredAt: string | null;
}

/** What the platform knows about a user's account; the bound phone only masked. */
export interface AccountFacts {
  userId: string;
  nickname: string;
  tier: string;
  realNameVerified: boolean;
  adult: boolean;
  followers: number;
  publicVideos: number;
  /** e.g. "138****5678"; null when no phone is bound. */
  phoneMasked: string | null;
  status: (typeof ACCOUNT_STATUSES)[number];
  /** Why the account is restricted or banned. */
  violation: string | null;
  livePermission: (typeof LIVE_PERMISSIONS)[number];
}

export interface RechargeRecord {
  id: string;
  amount: number;
  coins: number;
  status: (typeof RECHARGE_STATUSES)[number];
  createdAt: string;
  creditedAt: string | null;
}

export interface WithdrawalRecord {
  id: string;
  amount: number;
  status: (typeof WITHDRAWAL_STATUSES)[number];
  failureReason: string | null;
  createdAt: string;
  paidAt: string | null;
}

export interface PlatformAdapter {
  /** The order if it belongs to the user; another user's order is as good as unknown. */
  findOrder(userId: string, orderId: string): Promise<OrderFacts | null>;
  /** The user's most recent orders, newest first. */
  recentOrders(userId: string, limit: number): Promise<OrderFacts[]>;
  /** The user's account, or null when the platform does not know them (e.g. a guest). */
  findAccount(userId: string): Promise<AccountFacts | null>;
  recentRecharges(userId: string, limit: number): Promise<RechargeRecord[]>;
  recentWithdrawals(userId: string, limit: number): Promise<WithdrawalRecord[]>;
  /** The user whose account has this phone number (11 digits) or e-mail address bound, if any. */
  findUserByContact(contact: Contact): Promise<string | null>;
  /**
   * Act on the user's order. Exactly once per `idempotencyKey`: a repeated call returns the first result. The
   * platform refuses (status `refused`, with a reason) what the order's state does not allow.
   */
  performOrderAction(request: OrderActionRequest): Promise<OrderActionRecord>;
  /** The actions taken on the user's orders, newest first. */
  orderActions(userId: string): Promise<OrderActionRecord[]>;
  /** The user owning the order whose bound phone ends with these four digits: a caller proving who they are. */
  verifyByOrder(orderId: string, phoneLast4: string): Promise<string | null>;
}

/** How a channel knows a person: a phone number on `phone`, an e-mail address on `email`. */
export interface Contact {
  kind: 'phone' | 'email';
  /** Normalised: 11-digit mainland number, or the lower-cased address. */
  value: string;
}

export const ORDER_ACTIONS = ['order_cancelled', 'address_changed', 'return_opened', 'reship_requested', 'complaint_filed'] as const;

export interface OrderActionRequest {
  idempotencyKey: string;
  userId: string;
  orderId: string;
  type: (typeof ORDER_ACTIONS)[number];
  /** The new shipping address of an `address_changed`. */
  address?: string;
}

export interface OrderActionRecord {
  id: string;
  type: (typeof ORDER_ACTIONS)[number];
  orderId: string;
  status: 'done' | 'refused';
  reason: string | null;
  createdAt: string;
}
