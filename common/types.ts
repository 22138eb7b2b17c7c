// Types shared by the API, the workflow and the chart. No runtime code here.
export type Channel = 'app' | 'web' | 'email' | 'phone';
export const CHANNELS: readonly Channel[] = ['app', 'web', 'email', 'phone'];

export type ReplyKind = 'answer' | 'question' | 'offer' | 'apology' | 'handoff' | 'menu' | 'system';
/** A numbered choice; `orderId` on an order option (which also names product and status in its label). */
export interface ReplyOption { key: string; label: string; intent?: string; orderId?: string }
/** A tracked conversion offer on a `kind: "offer"` reply; `POST /api/offers/{id}/accept` takes the id. */
export interface OfferRef { id: string; product: string; link: string }
export interface Reply { text: string; kind: ReplyKind; options?: ReplyOption[]; offer?: OfferRef }

/** The recognised intent of a message; `model` names the model version that decided it, e.g. "intent@v3". */
export interface IntentVerdict {
  name: string;
  confidence: number;
  model?: string;
}

export type HandoffStatus = 'queued' | 'assigned' | 'with_agent' | 'timeout' | 'closed';

/** A user message as the workflow receives it. */
export interface InboundMessage {
  messageId: string; // server-side snowflake of the stored user message
  /** The client's idempotency key, echoed in the response (else the stored id is). */
  clientMessageId?: string;
  channel: Channel;
  text?: string;
  dtmf?: string;
  hasImage?: boolean;
}

/** A reply as stored and sent: `id` is the stored message's id (usable as `after=` on GET …/messages). */
export interface SentReply extends Reply {
  id: string;
}

/** A side effect done in a turn (DESIGN §4): `[]` when none. */
export interface TurnAction {
  type: 'coupon' | 'order_cancelled' | 'address_changed' | 'return_opened' | 'reship_requested' | 'complaint_filed' | 'handoff';
  id: string;
  /** `done`, or `refused` when the platform would not do it (then `reason`). */
  status: string;
  orderId?: string;
  reason?: string;
  /** On a `handoff`: the agents' queue. */
  queue?: string;
  /** On a `coupon`: its value (yuan) and why. */
  amount?: number;
}

/** What one turn answers the channel: the channel API's 200 body, stored on the user's message. */
export interface TurnResponse {
  conversationId: string;
  messageId: string;
  replies: SentReply[];
  state: string;
  intent?: IntentVerdict;
  emotion?: { label: string; score: number };
  handoff?: { status: HandoffStatus; queue?: string };
  actions: TurnAction[];
}

/** One turn as the workflow hands it to the conversation store. */
export interface TurnRecord {
  conversationId: string;
  /** The user message this turn answers; null for a timer-driven turn (e.g. the inactivity note). */
  userMessageId: string | null;
  turn: number;
  /** Replies numbered by the workflow: (conversation, seq) makes storing them idempotent. */
  replies: Array<Reply & { seq: number; sender: 'bot' | 'agent' | 'system' }>;
  response: Omit<TurnResponse, 'replies'>;
  state: string;
  tier: string | null;
  closed: boolean;
  /** The turn's rows in the event log: one `turn` row, then one per type of thing it did (see EVENT_TYPES). */
  event: {
    channel: Channel;
    intent: string | null;
    /** The topic the conversation is about after the turn (an offer is the topic's). */
    topic: string | null;
    emotion: string | null;
    chartVersion: number;
    types: EventType[];
    payload: Record<string, unknown>;
  };
}

export interface ConversationInput {
  conversationId: string;
  userId: string;
  channel: Channel;
  /** The chart version this conversation runs on, pinned when it was created (absent in histories from before the registry). */
  chartVersion?: number;
  settings: ConversationSettings;
  /** Carried over by continue-as-new. */
  carry?: CarriedState;
  /** Histories from before the registry carried these; kept so that they still type-check. */
  userTier?: string;
}

export interface CarriedState {
  snapshot: unknown;
  turns: number;
  /** The chart definition the conversation runs on (absent when carried by a pre-registry run). */
  chart?: { version: number; definition: unknown };
  tier?: string;
  /** Next reply sequence number. */
  seq?: number;
  recentResults: Array<[string, TurnResponse]>;
}

/** Per-deployment knobs the workflow cannot read from the environment itself. */
export interface ConversationSettings {
  inactivityMs: number;
  turnsPerRun: number;
}

/** What the workflow exposes to queries. */
export interface ConversationView {
  state: string;
  chartVersion: number;
  tier: string | null;
  turns: number;
  lastIntent: IntentVerdict | null;
  handoff: { status: HandoffStatus; ticketId: string } | null;
  rejections: number;
}

/** Weights of the learned "does this message continue the current topic?" model (models/continuation.ts); chart data. */
export interface ContinuationWeights {
  bias: number;
  weights: Record<string, number>;
}

/** What a turn can have done, one event row each (besides the `turn` row itself). */
export const EVENT_TYPES = [
  'message_received',
  'understood',
  'answered',
  'clarified',
  'offer_shown',
  'action_requested',
  'action_confirmed',
  'action_done',
  'action_refused',
  'coupon_issued',
  'coupon_refused',
  'handoff_requested',
  'handoff_queued',
  'resolved',
  'rejected',
  'closed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
