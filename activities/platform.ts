import { isGuest } from '../common/identity';
import type { ConversationStore } from '../db/conversation-store';
import type { IdentityStore } from '../db/identity-store';
import type {
  AccountLookup,
  KnownOrder,
  LookupOrderInput,
  OrderLookup,
  OrderSearch,
  PerformActionInput,
  ActionResult,
  UserInput,
  Verification,
  VerifyIdentityInput,
} from '../machines/types';
import type { OrderFacts, PlatformAdapter } from './platform-adapter';

// The chart's view of the platform: what the adapter reports, reduced to what the dialogue uses.

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The tier of a user the platform does not know (e.g. a guest). */
const UNKNOWN_TIER = 'standard';
/** How many recent orders the bot considers when the user names none. */
const RECENT_ORDERS = 10;

function knownOrder(order: OrderFacts, now: number): KnownOrder {
  return {
    orderId: order.orderId,
    product: order.product,
    amount: order.amount,
    shippingFee: order.shippingFee,
    status: order.status,
    remoteRegion: order.remoteRegion,
    carrier: order.carrier,
    trackingNo: order.trackingNo,
    daysSinceDelivered: order.deliveredAt ? Math.floor((now - Date.parse(order.deliveredAt)) / DAY_MS) : null,
    latestEvent: order.logisticsEvents.at(-1) ?? null,
    daysSinceLastEvent: order.logisticsEvents.length ? Math.floor((now - Date.parse(order.logisticsEvents.at(-1)!.at)) / DAY_MS) : null,
    freeShippingThreshold: order.freeShippingThreshold,
  };
}

/** Look up the order the user named; another user's order is reported as not found. */
export function makeLookupOrder(platform: PlatformAdapter, now: () => number = Date.now) {
  return async function lookupOrder(input: LookupOrderInput): Promise<OrderLookup> {
    const order = await platform.findOrder(input.userId, input.orderId);
    if (!order) return { found: false };
    const { freeShippingThreshold, ...view } = knownOrder(order, now());
    return { found: true, freeShippingThreshold, order: view };
  };
}

/** The user's recent orders, newest first: the chart picks the one that fits the topic, or offers a list. */
export function makeFindOrders(platform: PlatformAdapter, now: () => number = Date.now) {
  return async function findOrders(input: UserInput): Promise<OrderSearch> {
    const orders = await platform.recentOrders(input.userId, RECENT_ORDERS);
    return { orders: orders.map((o) => knownOrder(o, now())) };
  };
}

/** The account facts and latest wallet records, for answers that say which conditions are met. */
export function makeLookupAccount(platform: PlatformAdapter, now: () => number = Date.now) {
  return async function lookupAccount(input: UserInput): Promise<AccountLookup> {
    const [account, [recharge], [withdrawal]] = await Promise.all([
      platform.findAccount(input.userId),
      platform.recentRecharges(input.userId, 1),
      platform.recentWithdrawals(input.userId, 1),
    ]);
    if (!account) return { found: false };
    const t = now();
    return {
      found: true,
      account: {
        realNameVerified: account.realNameVerified,
        adult: account.adult,
        followers: account.followers,
        publicVideos: account.publicVideos,
        phoneMasked: account.phoneMasked,
        status: account.status,
        violation: account.violation,
        livePermission: account.livePermission,
        lastRecharge: recharge
          ? { amount: recharge.amount, coins: recharge.coins, status: recharge.status, minutesAgo: Math.max(0, Math.round((t - Date.parse(recharge.createdAt)) / MINUTE_MS)) }
          : null,
        lastWithdrawal: withdrawal
          ? { amount: withdrawal.amount, status: withdrawal.status, failureReason: withdrawal.failureReason, hoursAgo: Math.max(0, Math.round((t - Date.parse(withdrawal.createdAt)) / HOUR_MS)) }
          : null,
      },
    };
  };
}

/** The user's tier as the platform knows it, read when a conversation starts. */
export function makeLookupCustomer(platform: PlatformAdapter) {
  return async function lookupCustomer(input: UserInput): Promise<{ tier: string }> {
    const account = await platform.findAccount(input.userId);
    return { tier: account?.tier ?? UNKNOWN_TIER };
  };
}

/**
 * A guest caller proves who they are with an order number and the last four digits of the account's bound phone:
 * the guest's contacts then lead to the user, and the guest's conversations (this one included) become the user's.
 * Idempotent: a retry finds everything already linked.
 */
export function makeVerifyIdentity(platform: PlatformAdapter, identities: IdentityStore, store: ConversationStore) {
  return async function verifyIdentity(input: VerifyIdentityInput): Promise<Verification> {
    if (!isGuest(input.guestId)) return { verified: true, userId: input.guestId };
    const userId = await platform.verifyByOrder(input.orderId, input.phoneLast4);
    if (!userId) return { verified: false };
    await identities.verify(input.guestId, userId);
    await store.mergeGuest(input.guestId, userId, input.conversationId);
    return { verified: true, userId };
  };
}

/**
 * Act on the user's order after their yes. The idempotency key is the conversation, the confirming turn and the action:
 * a retried activity, a retried channel message or a replayed turn after a worker crash finds the first result.
 */
export function makePerformAction(platform: PlatformAdapter) {
  return async function performAction(input: PerformActionInput): Promise<ActionResult> {
    const record = await platform.performOrderAction({
      idempotencyKey: `conv-${input.conversationId}:turn-${input.turn}:${input.type}`,
      userId: input.userId,
      orderId: input.orderId,
      type: input.type,
      ...(input.address ? { address: input.address } : {}),
    });
    return { id: record.id, status: record.status, ...(record.reason ? { reason: record.reason } : {}) };
  };
}
