import type { Channel, ContinuationWeights, HandoffStatus, IntentVerdict, Reply, TurnAction } from '../common/types';
import type { OrderActionType, PendingAction } from './actions';
import type { SlotName, Slots } from './slots';

/** What the chart knows of a knowledge entry: enough to answer, offer and fall back. */
export interface AnswerView {
  intent: string;
  title: string;
  solution: { summary: string; steps: string[] };
  alternative: { summary: string; steps: string[] };
  policy: string;
  conversion: { product: string; pitch: string; entry: string; link: string } | null;
}

export interface ScoredCandidate {
  intent: string;
  title: string;
  menuLabel: string;
  score: number;
}

/** An order as the platform reports it to the chart (output of `lookupOrder`). */
export interface OrderView {
  orderId: string;
  product: string;
  amount: number;
  shippingFee: number;
  status: 'paid' | 'shipped' | 'delivered' | 'cancelled' | 'refunding' | 'refunded';
  remoteRegion: boolean;
  carrier: string | null;
  trackingNo: string | null;
  /** Whole days since delivery, when delivered. */
  daysSinceDelivered: number | null;
  /** The newest logistics event (absent in lookups recorded before it existed). */
  latestEvent?: { at: string; text: string } | null;
  /** Whole days since that event (absent in lookups recorded before it existed). */
  daysSinceLastEvent?: number | null;
}

/** An order with its shop's free-shipping threshold (yuan), as the chart keeps it. */
export type KnownOrder = OrderView & { freeShippingThreshold: number };

/** Output of `findOrders`: the user's recent orders, newest first. */
export interface OrderSearch {
  orders: KnownOrder[];
}

/** What the chart knows of the user's account and wallet (output of `lookupAccount`). */
export interface AccountView {
  realNameVerified: boolean;
  adult: boolean;
  followers: number;
  publicVideos: number;
  phoneMasked: string | null;
  status: 'normal' | 'restricted' | 'banned';
  violation: string | null;
  livePermission: 'none' | 'granted' | 'revoked';
  lastRecharge: { amount: number; coins: number; status: 'pending' | 'credited' | 'failed' | 'refunded'; minutesAgo: number } | null;
  lastWithdrawal: { amount: number; status: 'reviewing' | 'paid' | 'failed'; failureReason: string | null; hoursAgo: number } | null;
}
export type AccountLookup = { found: false } | { found: true; account: AccountView };

export type OrderLookup =
  | { found: false }
  /** `freeShippingThreshold`: the order's shop ships free at or above this amount (yuan). */
  | { found: true; order: OrderView; freeShippingThreshold: number };

export interface EmotionView {
  label: 'positive' | 'neutral' | 'anxious' | 'angry' | 'disappointed';
  score: number;
}

/** A follow-up question inside the current topic that the knowledge graph answers (a detail node). */
export interface DetailView {
  id: string;
  question: string;
  answer: string;
  /** How well the message matches the node's phrasings, 0..1. */
  score: number;
}

/** Output of the `understand` actor. */
export interface Understanding {
  /** A conversational act (meta.*) when the message is one. */
  meta?: string;
  /** The whole message is the act; otherwise it only contains it and may be a question too. */
  metaExact?: boolean;
  /** Knowledge candidates, best first, scores 0..1. */
  candidates: ScoredCandidate[];
  /** Answers for the candidates, by intent. */
  answers: Record<string, AnswerView>;
  /** The intent model's verdict, when a model is loaded: taxonomy id (`oos` included) and confidence. */
  intent?: IntentVerdict;
  emotion?: EmotionView;
  /** The current topic's best-matching detail node, when the message was read inside a topic. */
  detail?: DetailView;
  /** The message went through the sentence encoder (the models' n-gram heads alone were not confident enough). */
  encoded?: boolean;
}

export type Expecting = 'question' | 'feedback' | 'choice' | 'menu' | 'orderId' | 'orderChoice' | 'verification' | 'actionConfirm' | 'address';

/**
 * The thresholds and limits the chart's guards use: data in the chart JSON (`params`), copied into the
 * context at start so a conversation keeps the values of the version it started on.
 */
export interface ChartParams {
  /** Topic scores (model + retrieval, 0..1) at or above this are answered directly. */
  confidentScore: number;
  /** …when the best topic also leads the runner-up by this much; else the bot asks which is meant. */
  confidentMargin: number;
  /** Candidates below this are not worth offering in a clarifying question. */
  candidateScore: number;
  /** Rejected solutions before the conversation goes to a human. */
  maxRejections: number;
  /** Negative feelings at or above this score get an apology before the answer. */
  upsetScore: number;
  /** Topics answered from the user's own order, which the bot asks for when it does not know it yet. */
  orderTopics: string[];
  /**
   * For an order topic without an order number: the order statuses that fit it (e.g. change_address → paid). The one
   * fitting order is used, several are offered as a numbered list; topics not listed here ask for the number.
   */
  orderFits: Record<string, string[]>;
  /** Topics answered from the user's account facts and wallet records (which conditions are met, which missing). */
  accountTopics: string[];
  /** Read each message inside the current topic too, against the topic's detail nodes (follow-up questions). */
  readInTopic: boolean;
  /** Inside a topic, the prior that a message continues it (0..1), combined with the model, retrieval and detail match. */
  topicPrior: number;
  /** How much a detail-node match counts for the current topic (0..1). */
  detailWeight: number;
  /** The learned continuation model (models/continuation.ts); when set it replaces the fixed `topicPrior`. */
  continuation: ContinuationWeights | null;
  /** A guest (a caller or sender the platform does not know) proves who they are before order or account answers. */
  verifyGuests: boolean;
  /** Channels where answers are spoken one step at a time (key 1 next step, 2 solved), e.g. phone. */
  stepwiseChannels: string[];
  /**
   * Compensation for an upset user whose problem is the platform's fault: the topics it applies to, the calibrated
   * negative-emotion score it needs, and the coupon amount (yuan) per tier for severity 1 (doubled or tripled when the
   * user stays upset across turns or the facts show the fault). Null: no coupons.
   */
  compensation: { topics: string[]; minScore: number; amountByTier: Record<string, number> } | null;
  /** Handoffs go to a queue: VIP users to `vip`, others to their topic group's queue or `general`. */
  routeQueues: boolean;
  /** A tier's extra benefit added to conversion offers (e.g. gold: a member discount); none for tiers not listed. */
  offerPerks: Record<string, string>;
  /** Conversion offers come once the problem is solved (tracked, with an id), not with the answer. */
  offersAfterResolution: boolean;
  /** Offer to act on the user's order (cancel, open a return, re-ship, file a logistics complaint) after answering. */
  offerActions: boolean;
  /** A shipped order without a logistics update for this many days gets a complaint filed on request. */
  stalledDays: number;
  /** A detail node matching at least this well (0..1), with the topic still the best candidate, is answered. */
  detailScore: number;
}

export interface ChartContext {
  conversationId: string;
  userId: string;
  channel: Channel;
  /** The user's tier (e.g. standard, vip) as the platform reported it at the start. */
  tier: string;
  params: ChartParams;
  turn: number;
  /** The current user message. */
  text: string;
  dtmf: string;
  /** What the bot asked for last, so that "1" or "没用" can be read in context. */
  expecting: Expecting;
  nlu: Understanding | null;
  /** Numbered options on screen: knowledge candidates or menu groups. */
  choices: ScoredCandidate[];
  /** Answers for the offered choices, by intent. */
  topicAnswers: Record<string, AnswerView>;
  /** The topic group picked from the menu, a prior for the next question. */
  group: string | null;
  topic: AnswerView | null;
  /** The topic before the current one, for "回到刚才那个" (absent in snapshots from before it existed). */
  previousTopic?: AnswerView | null;
  lastIntent: IntentVerdict | null;
  emotion: EmotionView | null;
  /** Dialogue state tracking: slot values with the turn they came from, and what the bot has asked for. */
  slots: Slots;
  asked: SlotName[];
  /** The order looked up for the current topic. */
  order: KnownOrder | null;
  /** Orders offered as a numbered list to pick from (absent in snapshots from before it existed). */
  orderChoices?: KnownOrder[];
  /** The user's account facts, read once per conversation when an account topic needs them. */
  account?: AccountView | null;
  rejections: number;
  failures: number;
  /** `queue` is absent in snapshots from before queues existed (then `general`). */
  handoff: { status: HandoffStatus; ticketId: string; queue?: string } | null;
  /** Replies produced in the current turn. */
  outbox: Reply[];
  /** The steps being read out on a stepwise channel, and the next one to read (absent in snapshots from before). */
  reading?: { steps: string[]; next: number } | null;
  /** The action offered and waiting for the user's yes (absent in snapshots from before actions existed). */
  pendingAction?: PendingAction | null;
  /** Side effects done in the current turn. */
  actions?: TurnAction[];
  /** Turns in this conversation read as negative so far (absent in snapshots from before coupons). */
  negativeTurns?: number;
  /** Incidents already compensated (or refused) in this conversation, and this turn's coupon outcome. */
  compensated?: string[];
  coupon?: CouponOutcome | null;
  /** The replies of the last turn that said something, for the phone's repeat key (absent in snapshots from before it). */
  lastPrompt?: Reply[];
}

export interface ChartInput {
  conversationId: string;
  userId: string;
  channel: Channel;
  tier: string;
  /** The chart version's parameters (machines/interpret.ts startChart passes them). */
  params: ChartParams;
}

export type ChartEvent =
  | { type: 'user.message'; text: string; dtmf?: string; channel: Channel }
  | { type: 'session.timeout' }
  | { type: 'xstate.done.actor.understand'; output: Understanding }
  | { type: 'xstate.error.actor.understand'; error: unknown }
  | { type: 'xstate.done.actor.lookupOrder'; output: OrderLookup }
  | { type: 'xstate.error.actor.lookupOrder'; error: unknown }
  | { type: 'xstate.done.actor.findOrders'; output: OrderSearch }
  | { type: 'xstate.error.actor.findOrders'; error: unknown }
  | { type: 'xstate.done.actor.lookupAccount'; output: AccountLookup }
  | { type: 'xstate.error.actor.lookupAccount'; error: unknown }
  | { type: 'xstate.done.actor.issueCoupon'; output: CouponOutcome }
  | { type: 'xstate.error.actor.issueCoupon'; error: unknown }
  | { type: 'xstate.done.actor.performAction'; output: ActionResult }
  | { type: 'xstate.error.actor.performAction'; error: unknown }
  | { type: 'xstate.done.actor.verifyIdentity'; output: Verification }
  | { type: 'xstate.error.actor.verifyIdentity'; error: unknown }
  | { type: 'xstate.done.actor.requestHandoff'; output: { ticketId: string; status: HandoffStatus; queue?: string } }
  | { type: 'xstate.error.actor.requestHandoff'; error: unknown };

/** Inputs of the chart's invoked actors; the workflow runs each as an activity. */
export interface UnderstandInput {
  conversationId: string;
  text: string;
  group: string | null;
  /** The topic the conversation is about and how strongly to read the message inside it (absent in inputs recorded before it existed). */
  topic?: { intent: string; prior: number; detailWeight: number; continuation?: ContinuationWeights } | null;
}
export interface LookupOrderInput {
  userId: string;
  orderId: string;
}
export interface UserInput {
  userId: string;
}
export interface PerformActionInput {
  conversationId: string;
  /** The turn that confirmed it: with the conversation and the type, the action's idempotency key. */
  turn: number;
  userId: string;
  type: OrderActionType;
  orderId: string;
  /** The new address of an `address_changed`. */
  address?: string;
}
export interface ActionResult {
  id: string;
  status: 'done' | 'refused';
  reason?: string;
}
export type CouponOutcome =
  | { issued: true; id: string; amount: number; repeated: boolean }
  | { issued: false; reason: 'already_compensated' | 'conversation_limit' | 'user_budget' | 'daily_budget' };
export interface IssueCouponInput {
  conversationId: string;
  userId: string;
  /** User + topic + the order or account concerned: one coupon per incident at most. */
  incidentKey: string;
  amount: number;
  reason: string;
}
export interface VerifyIdentityInput {
  conversationId: string;
  guestId: string;
  orderId: string;
  phoneLast4: string;
}
export type Verification = { verified: false } | { verified: true; userId: string };
export interface RequestHandoffInput {
  conversationId: string;
  userId: string;
  reason: string;
  /** `vip`, a topic group's queue, or `general` (absent in inputs recorded before queues existed). */
  queue?: string;
}
