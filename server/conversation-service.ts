import type { DataSource } from 'typeorm';
import type { Snowflake } from '../common/snowflake';
import type { Channel, IntentVerdict, Reply, TurnResult } from '../common/types';
import { ApiError } from './errors';
import { ConversationClosedError, ReplyTimeoutError, type ConversationGateway } from './conversation-gateway';
import type { InboundBody } from './validation';

export interface ChannelResponse {
  conversationId: string;
  messageId: string;
  replies: Reply[];
  state: string;
  intent?: IntentVerdict;
  emotion?: { label: string; score: number };
  handoff?: { status: string };
}

interface StoredMessage {
  id: string;
  conversationId: string;
  response: ChannelResponse | null;
  userTier: string;
  /** 'greeting' until the first turn is recorded: the workflow may not exist yet. */
  state: string;
}

const DEFAULT_TIER = 'standard';
const NEW_STATE = 'greeting';

/**
 * The channel message flow: store the message first (so an accepted message is never lost),
 * run the turn in its conversation workflow, store the replies, answer. Both writes are single
 * calls of database functions (db/migrations/0002).
 */
export class ConversationService {
  constructor(
    private readonly ds: DataSource,
    private readonly gateway: ConversationGateway,
    private readonly ids: Snowflake,
  ) {}

  async handle(channel: Channel, body: InboundBody): Promise<ChannelResponse> {
    const stored = await this.accept(channel, body, body.conversationId ?? null);
    if (stored.response) return stored.response; // a retry of an answered message
    return this.answer(channel, body, stored, true);
  }

  /** The message as stored: found by its messageId if this is a retry, else stored in the right conversation. */
  private async accept(channel: Channel, body: InboundBody, conversationId: string | null): Promise<StoredMessage> {
    const text = body.text ?? (body.dtmf ? `[按键] ${body.dtmf}` : '[图片]');
    const [row] = await this.ds.query(`SELECT * FROM cs_accept_message($1, $2, $3, $4, $5, $6, $7, $8)`, [
      body.userId,
      channel,
      body.messageId ?? null,
      conversationId,
      text,
      this.ids.next(),
      this.ids.next(),
      DEFAULT_TIER,
    ]);
    if (row.status === 'not_found') {
      throw new ApiError(404, 'conversation_not_found', `no conversation ${conversationId} for this user`);
    }
    return {
      id: String(row.message_id),
      conversationId: String(row.conversation_id),
      response: row.response,
      userTier: row.user_tier,
      state: row.state,
    };
  }

  private async answer(channel: Channel, body: InboundBody, stored: StoredMessage, mayMove: boolean): Promise<ChannelResponse> {
    let result: TurnResult;
    try {
      result = await this.gateway.deliver(
        { id: stored.conversationId, userId: body.userId, channel, userTier: stored.userTier },
        { messageId: stored.id, channel, text: body.text, dtmf: body.dtmf, hasImage: !!body.image },
        `msg-${stored.id}`,
        stored.state !== NEW_STATE,
      );
    } catch (err) {
      if (err instanceof ConversationClosedError && mayMove) {
        return this.answer(channel, body, await this.moveToNewConversation(channel, body, stored), false);
      }
      if (err instanceof ReplyTimeoutError) {
        throw new ApiError(503, 'reply_timeout', 'the message is stored; retry with the same messageId for the reply', 2);
      }
      throw err;
    }
    return this.record(body, stored, result);
  }

  /** The conversation ended between lookup and delivery: close it here too and carry the message over. */
  private async moveToNewConversation(channel: Channel, body: InboundBody, stored: StoredMessage): Promise<StoredMessage> {
    return this.ds.transaction(async (tx) => {
      await tx.query(
        `UPDATE conversations SET status = 'closed', closed_at = COALESCE(closed_at, now()), updated_at = now() WHERE id = $1`,
        [stored.conversationId],
      );
      await tx.query(
        `INSERT INTO conversations (id, user_id, status, state, channels, user_tier)
         VALUES ($1, $2, 'open', '${NEW_STATE}', jsonb_build_array($3::text), $4)
         ON CONFLICT (user_id) WHERE status = 'open' DO NOTHING`,
        [this.ids.next(), body.userId, channel, stored.userTier],
      );
      const [open] = await tx.query(`SELECT id::text, state FROM conversations WHERE user_id = $1 AND status = 'open'`, [body.userId]);
      await tx.query(`UPDATE messages SET conversation_id = $2 WHERE id = $1`, [stored.id, open.id]);
      return { ...stored, conversationId: open.id, state: open.state };
    });
  }

  private async record(body: InboundBody, stored: StoredMessage, result: TurnResult): Promise<ChannelResponse> {
    const response: ChannelResponse = {
      conversationId: stored.conversationId,
      messageId: body.messageId ?? stored.id,
      replies: result.replies,
      state: result.state,
      ...(result.intent ? { intent: result.intent } : {}),
      ...(result.emotion ? { emotion: result.emotion } : {}),
      ...(result.handoff ? { handoff: result.handoff } : {}),
    };
    const replies = result.replies.map((r) => ({ id: this.ids.next(), text: r.text, kind: r.kind, options: r.options ?? null }));
    await this.ds.query(`SELECT cs_record_turn($1, $2, $3, $4, $5, $6, $7)`, [
      stored.id,
      JSON.stringify(response),
      JSON.stringify(replies),
      result.state,
      result.intent?.name ?? null,
      result.handoff?.status ?? null,
      result.closed,
    ]);
    return response;
  }
}
