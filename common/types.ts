// Types shared by the API, the workflow and the chart. No runtime code here.
export type Channel = 'app' | 'web' | 'email' | 'phone';
export const CHANNELS: readonly Channel[] = ['app', 'web', 'email', 'phone'];

export type ReplyKind = 'answer' | 'question' | 'offer' | 'apology' | 'handoff' | 'menu' | 'system';
export interface ReplyOption { key: string; label: string; intent?: string }
export interface Reply { text: string; kind: ReplyKind; options?: ReplyOption[] }

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
  channel: Channel;
  text?: string;
  dtmf?: string;
  hasImage?: boolean;
}

/** What one turn returns to the channel. */
export interface TurnResult {
  replies: Reply[];
  state: string;
  intent?: IntentVerdict;
  emotion?: { label: string; score: number };
  handoff?: { status: HandoffStatus };
  closed: boolean;
}

export interface ConversationInput {
  conversationId: string;
  userId: string;
  channel: Channel;
  userTier: string;
  settings: ConversationSettings;
  /** Carried over by continue-as-new. */
  carry?: CarriedState;
}

export interface CarriedState {
  snapshot: unknown;
  turns: number;
  recentResults: Array<[string, TurnResult]>;
  transcript: TranscriptEntry[];
}

/** Per-deployment knobs the workflow cannot read from the environment itself. */
export interface ConversationSettings {
  inactivityMs: number;
  turnsPerRun: number;
}

export interface TranscriptEntry {
  from: 'user' | 'bot';
  text: string;
  kind?: string;
  turn: number;
}

/** What the workflow exposes to queries. */
export interface ConversationView {
  state: string;
  turns: number;
  lastIntent: IntentVerdict | null;
  handoff: { status: HandoffStatus; ticketId: string } | null;
  rejections: number;
  transcript: TranscriptEntry[];
}
