import type { DataSource, EntityManager } from 'typeorm';
import type { Snowflake } from '../common/snowflake';
import type { Channel, Reply, TurnResult } from '../common/types';
import { ApiError } from './errors';
import { ConversationClosedError, ReplyTimeoutError, type ConversationGateway } from './conversation-gateway';
import type { InboundBody } from './validation';

export interface ChannelResponse {
  conversationId: string;
  messageId: string;
  replies: Reply[];
  state: string;
  intent?: { name: string; confidence: number };
  handoff?: { status: string };
}

interface StoredMessage {
  id: string;
  conversationId: string;
  response: ChannelResponse | null;
}

const DEFAULT_TIER = 'standard';
const NEW_STATE = 'greeting';

/**
 * The channel message flow: store the message first (so an accepted message is never lost),
 * run the turn in its conversation workflow, store the replies, answer.
 */
export class ConversationService {
  constructor(
    private readonly ds: DataSource,
    private readonly gateway: ConversationGateway,
    private readonly ids: Snowflake,
  ) {}

  async handle(channel: Channel, body: InboundBody): Promise<ChannelResponse> {
    const stored = await this.accept(channel, body);
    if (stored.response) return stored.response; // a retry of an answered message
    return this.answer(channel, body, stored, true);
  }

  /** Find the message if this is a retry, else store it in the right conversation. */
  private async accept(channel: Channel, body: InboundBody): Promise<StoredMessage> {
    if (body.messageId) {
      const existing = await this.findByClientId(body.userId, body.messageId);
      if (existing) return existing;
    }
    const conversationId = await this.resolveConversation(channel, body);
    const id = this.ids.next();
    const text = body.text ?? (body.dtmf ? `[按键] ${body.dtmf}` : '[图片]');
    const inserted = await this.ds.query(
      `INSERT INTO messages (id, conversation_id, user_id, sender, channel, client_message_id, text)
       VALUES ($1, $2, $3, 'user', $4, $5, $6)
       ON CONFLICT (user_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING RETURNING id`,
      [id, conversationId, body.userId, channel, body.messageId ?? null, text],
    );
    if (inserted.length === 0) return (await this.findByClientId(body.userId, body.messageId!))!; // a concurrent retry won
    await this.ds.query(
      `UPDATE conversations SET channels = channels || to_jsonb($2::text), updated_at = now()
       WHERE id = $1 AND NOT channels ? $2`,
      [conversationId, channel],
    );
    return { id, conversationId, response: null };
  }

  private async findByClientId(userId: string, messageId: string): Promise<StoredMessage | null> {
    const [row] = await this.ds.query(
      `SELECT id, conversation_id, response FROM messages WHERE user_id = $1 AND client_message_id = $2`,
      [userId, messageId],
    );
    return row ? { id: String(row.id), conversationId: String(row.conversation_id), response: row.response } : null;
  }

  /** The named conversation, else the user's open one on any channel, else a new one. */
  private async resolveConversation(channel: Channel, body: InboundBody): Promise<string> {
    if (body.conversationId) {
      const [row] = await this.ds.query(`SELECT user_id, status FROM conversations WHERE id = $1`, [body.conversationId]);
      if (!row || row.user_id !== body.userId) {
        throw new ApiError(404, 'conversation_not_found', `no conversation ${body.conversationId} for this user`);
      }
      if (row.status === 'open') return body.conversationId;
    }
    return this.openConversation(body.userId, channel);
  }

  private async openConversation(userId: string, channel: Channel, manager: EntityManager = this.ds.manager): Promise<string> {
    // The partial unique index allows one open conversation per user; concurrent first messages meet in it.
    await manager.query(
      `INSERT INTO conversations (id, user_id, status, state, channels, user_tier)
       VALUES ($1, $2, 'open', '${NEW_STATE}', $3, $4)
       ON CONFLICT (user_id) WHERE status = 'open' DO NOTHING`,
      [this.ids.next(), userId, JSON.stringify([channel]), DEFAULT_TIER],
    );
    const [row] = await manager.query(`SELECT id FROM conversations WHERE user_id = $1 AND status = 'open'`, [userId]);
    return String(row.id);
  }

  private async answer(channel: Channel, body: InboundBody, stored: StoredMessage, mayMove: boolean): Promise<ChannelResponse> {
    const [conv] = await this.ds.query(`SELECT user_tier, state FROM conversations WHERE id = $1`, [stored.conversationId]);
    let result: TurnResult;
    try {
      result = await this.gateway.deliver(
        { id: stored.conversationId, userId: body.userId, channel, userTier: conv.user_tier },
        { messageId: stored.id, channel, text: body.text, dtmf: body.dtmf, hasImage: !!body.image },
        `msg-${stored.id}`,
        conv.state !== NEW_STATE, // the first recorded turn moves the state off 'greeting'
      );
    } catch (err) {
      if (err instanceof ConversationClosedError && mayMove) {
        return this.answer(channel, body, await this.moveToNewConversation(body.userId, channel, stored), false);
      }
      if (err instanceof ReplyTimeoutError) {
        throw new ApiError(503, 'reply_timeout', 'the message is stored; retry with the same messageId for the reply', 2);
      }
      throw err;
    }
    return this.record(body, stored, result);
  }

  /** The conversation ended between lookup and delivery: close it here too and carry the message over. */
  private async moveToNewConversation(userId: string, channel: Channel, stored: StoredMessage): Promise<StoredMessage> {
    return this.ds.transaction(async (tx) => {
      await tx.query(
        `UPDATE conversations SET status = 'closed', closed_at = COALESCE(closed_at, now()), updated_at = now() WHERE id = $1`,
        [stored.conversationId],
      );
      const conversationId = await this.openConversation(userId, channel, tx);
      await tx.query(`UPDATE messages SET conversation_id = $2 WHERE id = $1`, [stored.id, conversationId]);
      return { ...stored, conversationId };
    });
  }

  /** Store the replies and the whole response on the user's message, in one transaction. */
  private async record(body: InboundBody, stored: StoredMessage, result: TurnResult): Promise<ChannelResponse> {
    const response: ChannelResponse = {
      conversationId: stored.conversationId,
      messageId: body.messageId ?? stored.id,
      replies: result.replies,
      state: result.state,
      ...(result.intent ? { intent: result.intent } : {}),
      ...(result.handoff ? { handoff: result.handoff } : {}),
    };
    await this.ds.transaction(async (tx) => {
      const [, claimed] = await tx.query(`UPDATE messages SET response = $2 WHERE id = $1 AND response IS NULL`, [
        stored.id,
        JSON.stringify(response),
      ]);
      if (claimed === 0) return; // a concurrent retry recorded it
      if (result.replies.length > 0) {
        // One statement for all replies; they go out on the channel the user wrote from.
        await tx.query(
          `INSERT INTO messages (id, conversation_id, user_id, sender, channel, text, kind, options)
           SELECT r.id, $1, $2, 'bot', (SELECT channel FROM messages WHERE id = $3), r.text, r.kind, r.options
           FROM jsonb_to_recordset($4::jsonb) AS r(id bigint, text text, kind varchar, options jsonb)`,
          [
            stored.conversationId,
            body.userId,
            stored.id,
            JSON.stringify(result.replies.map((r) => ({ id: this.ids.next(), text: r.text, kind: r.kind, options: r.options ?? null }))),
          ],
        );
      }
      await tx.query(
        `UPDATE conversations SET state = $2, last_intent = COALESCE($3, last_intent),
           handoff_status = COALESCE($4, handoff_status), updated_at = now(),
           status = CASE WHEN $5 THEN 'closed' ELSE status END,
           closed_at = CASE WHEN $5 THEN COALESCE(closed_at, now()) ELSE closed_at END
         WHERE id = $1`,
        [stored.conversationId, result.state, result.intent?.name ?? null, result.handoff?.status ?? null, result.closed],
      );
    });
    return response;
  }
}
