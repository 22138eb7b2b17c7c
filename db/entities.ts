import { EntitySchema } from 'typeorm';

// Entities are declared as schemas (no decorators), so the same files load under tsx, vitest and tsc.
// Ids are snowflakes: bigint in PostgreSQL, strings in JavaScript.

export interface ConversationRow {
  id: string;
  userId: string;
  status: 'open' | 'closed';
  state: string;
  channels: string[];
  /** Null until the workflow has read the user's tier from the platform. */
  userTier: string | null;
  chartVersion: number | null;
  workflowStarted: boolean;
  lastIntent: string | null;
  handoffStatus: string | null;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
}

export const Conversation = new EntitySchema<ConversationRow>({
  name: 'Conversation',
  tableName: 'conversations',
  columns: {
    id: { type: 'bigint', primary: true },
    userId: { type: 'varchar', length: 64, name: 'user_id' },
    status: { type: 'varchar', length: 16 },
    state: { type: 'varchar', length: 128 },
    channels: { type: 'jsonb' },
    userTier: { type: 'varchar', length: 16, name: 'user_tier', nullable: true },
    chartVersion: { type: 'int', name: 'chart_version', nullable: true },
    workflowStarted: { type: 'boolean', name: 'workflow_started' },
    lastIntent: { type: 'varchar', length: 64, name: 'last_intent', nullable: true },
    handoffStatus: { type: 'varchar', length: 16, name: 'handoff_status', nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
    closedAt: { type: 'timestamptz', name: 'closed_at', nullable: true },
  },
});

export interface MessageRow {
  id: string;
  conversationId: string;
  userId: string;
  sender: 'user' | 'bot' | 'agent' | 'system';
  channel: string;
  clientMessageId: string | null;
  text: string;
  kind: string | null;
  options: unknown;
  response: unknown;
  /** Order of the messages the workflow writes (bot, agent, system); null on user messages. */
  seq: number | null;
  /** The chart turn a message belongs to. */
  turn: number | null;
  /** The user message a reply answers. */
  replyTo: string | null;
  createdAt: Date;
}

export const Message = new EntitySchema<MessageRow>({
  name: 'Message',
  tableName: 'messages',
  columns: {
    id: { type: 'bigint', primary: true },
    conversationId: { type: 'bigint', name: 'conversation_id' },
    userId: { type: 'varchar', length: 64, name: 'user_id' },
    sender: { type: 'varchar', length: 8 },
    channel: { type: 'varchar', length: 8 },
    clientMessageId: { type: 'varchar', length: 128, name: 'client_message_id', nullable: true },
    text: { type: 'text' },
    kind: { type: 'varchar', length: 16, nullable: true },
    options: { type: 'jsonb', nullable: true },
    response: { type: 'jsonb', nullable: true },
    seq: { type: 'int', nullable: true },
    turn: { type: 'int', nullable: true },
    replyTo: { type: 'bigint', name: 'reply_to', nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at' },
  },
});

export interface KnowledgeRow {
  intent: string;
  groupName: string;
  entry: unknown; // the validated KnowledgeEntry document
  version: number;
  updatedAt: Date;
}

export const KnowledgeEntryEntity = new EntitySchema<KnowledgeRow>({
  name: 'KnowledgeEntry',
  tableName: 'knowledge_entries',
  columns: {
    intent: { type: 'varchar', length: 64, primary: true },
    groupName: { type: 'varchar', length: 32, name: 'group_name' },
    entry: { type: 'jsonb' },
    version: { type: 'int' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});

export interface HandoffRow {
  id: string;
  conversationId: string;
  status: string;
  reason: string;
  createdAt: Date;
  updatedAt: Date;
}

export const Handoff = new EntitySchema<HandoffRow>({
  name: 'Handoff',
  tableName: 'handoffs',
  columns: {
    id: { type: 'bigint', primary: true },
    conversationId: { type: 'bigint', name: 'conversation_id' },
    status: { type: 'varchar', length: 16 },
    reason: { type: 'text' },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});

export const entities = [Conversation, Message, KnowledgeEntryEntity, Handoff];
