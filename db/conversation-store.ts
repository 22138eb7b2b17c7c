import type { DataSource } from 'typeorm';
import type { Snowflake } from '../common/snowflake';
import type { Channel, TurnRecord, TurnResponse } from '../common/types';

/**
 * The one owner of conversation data: every write to `conversations`, `messages` and the turn events
 * goes through this module, whoever calls it. The API stores what users send (before Temporal sees it,
 * so an accepted message is never lost); the workflow, through its activities, records what the
 * conversation says and becomes — replies keyed by the sequence number the workflow assigns.
 * Reads for the API (GET …/messages, SSE) are in server/; they read the same rows.
 */

export interface AcceptedMessage {
  status: 'stored' | 'retry';
  messageId: string;
  conversationId: string;
  /** The stored answer, when this is a retry of a message already answered. */
  response: TurnResponse | null;
  /** Whether the conversation's workflow has recorded a turn (else it may not exist yet). */
  started: boolean;
  /** The chart version pinned when the conversation was created; null if none was published. */
  chartVersion: number | null;
}

export class ConversationNotFound extends Error {}

/** The chart version new conversations start on (the same rule as cs_accept_message, db/migrations/0005). */
const LATEST_PUBLISHED_CHART = `(SELECT version FROM chart_versions WHERE published_at IS NOT NULL ORDER BY published_at DESC, version DESC LIMIT 1)`;

export class ConversationStore {
  constructor(
    private readonly ds: DataSource,
    private readonly ids: Snowflake,
  ) {}

  /**
   * Store a user message idempotently (by `clientMessageId`) in the given conversation, or the user's open
   * one, or a new one pinned to the latest published chart. One database round trip.
   */
  async acceptUserMessage(m: {
    userId: string;
    channel: Channel;
    clientMessageId: string | null;
    conversationId: string | null;
    text: string;
  }): Promise<AcceptedMessage> {
    const [row] = await this.ds.query(`SELECT * FROM cs_accept_message($1, $2, $3, $4, $5, $6, $7)`, [
      m.userId,
      m.channel,
      m.clientMessageId,
      m.conversationId,
      m.text,
      this.ids.next(),
      this.ids.next(),
    ]);
    if (row.status === 'not_found') throw new ConversationNotFound(`no conversation ${m.conversationId} for this user`);
    return {
      status: row.status,
      messageId: String(row.message_id),
      conversationId: String(row.conversation_id),
      response: row.response,
      started: row.started,
      chartVersion: row.chart_version,
    };
  }

  /**
   * Pin the latest published chart on a conversation created while none was published (its workflow has not
   * started, so nothing runs on another version yet); null while there is still none.
   */
  async pinLatestChart(conversationId: string): Promise<number | null> {
    // TypeORM answers an UPDATE … RETURNING with [rows, affected count].
    const [[row]] = await this.ds.query(
      `UPDATE conversations SET chart_version = COALESCE(chart_version, ${LATEST_PUBLISHED_CHART})
       WHERE id = $1 AND NOT workflow_started RETURNING chart_version`,
      [conversationId],
    );
    return row?.chart_version ?? null;
  }

  /**
   * The conversation ended between lookup and delivery (its workflow refused the message): close it here
   * too and move the message into the user's open conversation, a new one if needed.
   */
  async moveToOpenConversation(messageId: string, userId: string, channel: Channel, closedConversationId: string): Promise<AcceptedMessage> {
    return this.ds.transaction(async (tx) => {
      await tx.query(
        `UPDATE conversations SET status = 'closed', closed_at = COALESCE(closed_at, now()), updated_at = now() WHERE id = $1`,
        [closedConversationId],
      );
      await tx.query(
        `INSERT INTO conversations (id, user_id, status, state, channels, chart_version)
         SELECT $1, $2, 'open', 'new', jsonb_build_array($3::text), ${LATEST_PUBLISHED_CHART}
         ON CONFLICT (user_id) WHERE status = 'open' DO NOTHING`,
        [this.ids.next(), userId, channel],
      );
      const [open] = await tx.query(
        `SELECT id::text, workflow_started, chart_version FROM conversations WHERE user_id = $1 AND status = 'open'`,
        [userId],
      );
      await tx.query(`UPDATE messages SET conversation_id = $2 WHERE id = $1`, [messageId, open.id]);
      return { status: 'stored', messageId, conversationId: open.id, response: null, started: open.workflow_started, chartVersion: open.chart_version };
    });
  }

  /**
   * Record one turn of the workflow (a user message's turn, or a timer-driven one without a message).
   * Idempotent: replies are keyed by (conversation, seq), the event by (conversation, turn), and the user
   * message keeps its first response, which is what this returns.
   */
  async recordTurn(t: TurnRecord): Promise<TurnResponse> {
    const replies = t.replies.map((r) => ({ id: this.ids.next(), ...r }));
    const eventIds = [null, ...t.event.types].map(() => this.ids.next()); // the turn's own row, then one per type
    const [row] = await this.ds.query(`SELECT cs_record_turn($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) AS response`, [
      t.conversationId,
      t.userMessageId,
      t.turn,
      JSON.stringify(replies),
      JSON.stringify(t.response),
      eventIds,
      JSON.stringify(t.event),
      t.state,
      t.response.intent?.name ?? null,
      t.response.handoff?.status ?? null,
      t.tier,
      t.closed,
    ]);
    return row.response;
  }

  /**
   * A guest proved to be `userId`: their conversations and messages become the user's, so the user's history
   * (any channel) includes them. The guest's open conversation stays open as the user's; if the user had another
   * open one, that one is closed (its workflow ends by inactivity) — one open conversation per user.
   */
  async mergeGuest(guestId: string, userId: string, keepOpen: string): Promise<void> {
    await this.ds.transaction(async (tx) => {
      await tx.query(
        `UPDATE conversations SET status = 'closed', closed_at = COALESCE(closed_at, now()), updated_at = now()
         WHERE user_id = $1 AND status = 'open' AND id <> $2`,
        [userId, keepOpen],
      );
      await tx.query(`UPDATE conversations SET user_id = $2, updated_at = now() WHERE user_id = $1`, [guestId, userId]);
      // A client messageId the user already used stays with the guest's copy rather than breaking idempotency.
      await tx.query(
        `UPDATE messages m SET user_id = $2 WHERE m.user_id = $1 AND (m.client_message_id IS NULL OR NOT EXISTS (
           SELECT 1 FROM messages x WHERE x.user_id = $2 AND x.client_message_id = m.client_message_id))`,
        [guestId, userId],
      );
    });
  }

  /**
   * The user took an offer shown in a conversation: recorded once (a repeat returns the first), with a `conversion`
   * event. Null when there is no such offer.
   */
  async acceptOffer(offerId: string): Promise<Conversion | null> {
    const [[row]] = await this.ds.query(
      `UPDATE offers SET converted_at = COALESCE(converted_at, now()), converted_by = COALESCE(converted_by, 'accepted')
       WHERE id = $1 RETURNING *`,
      [offerId],
    );
    if (!row) return null;
    await this.recordConversionEvent(row);
    return conversion(row);
  }

  /**
   * Offers the user converted: accepted, or followed by a platform order for the offered product within 7 days of
   * being shown (such orders are matched here, when conversions are read, and recorded once).
   */
  async conversions(userId: string): Promise<Conversion[]> {
    const [matched] = await this.ds.query(
      `UPDATE offers o SET converted_at = p.created_at, converted_by = 'order'
         FROM platform_orders p
        WHERE o.user_id = $1 AND o.converted_at IS NULL AND p.user_id = o.user_id AND p.product = o.product
          AND p.status <> 'cancelled' AND p.created_at BETWEEN o.shown_at AND o.shown_at + interval '7 days'
       RETURNING o.*`,
      [userId],
    );
    for (const row of matched) await this.recordConversionEvent(row);
    const rows = await this.ds.query(`SELECT * FROM offers WHERE user_id = $1 AND converted_at IS NOT NULL ORDER BY converted_at`, [userId]);
    return rows.map(conversion);
  }

  private async recordConversionEvent(row: Record<string, any>): Promise<void> {
    await this.ds.query(
      `INSERT INTO events (id, idempotency_key, type, conversation_id, user_id, channel, tier, intent, chart_version, payload)
       VALUES ($1, $2, 'conversion', $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (idempotency_key) DO NOTHING`,
      [this.ids.next(), `conversion:${row.id}`, row.conversation_id, row.user_id, row.channel, row.tier, row.intent, row.chart_version,
        JSON.stringify({ offerId: row.id, product: row.product, by: row.converted_by })],
    );
  }

  /** Mark the conversation closed (once; later calls change nothing). */
  async close(conversationId: string): Promise<void> {
    await this.ds.query(
      `UPDATE conversations SET status = 'closed', state = 'closed', closed_at = now(), updated_at = now()
       WHERE id = $1 AND closed_at IS NULL`,
      [conversationId],
    );
  }
}

/** A converted offer, linked to where it was shown. */
export interface Conversion {
  offerId: string;
  conversationId: string;
  intent: string;
  product: string;
  channel: string;
  tier: string | null;
  chartVersion: number | null;
  shownAt: string;
  convertedAt: string;
  by: 'accepted' | 'order';
}

function conversion(r: Record<string, any>): Conversion {
  return {
    offerId: r.id,
    conversationId: String(r.conversation_id),
    intent: r.intent,
    product: r.product,
    channel: r.channel,
    tier: r.tier,
    chartVersion: r.chart_version,
    shownAt: new Date(r.shown_at).toISOString(),
    convertedAt: new Date(r.converted_at).toISOString(),
    by: r.converted_by,
  };
}
