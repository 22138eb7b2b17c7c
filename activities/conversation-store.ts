import type { DataSource } from 'typeorm';
import type { Snowflake } from '../common/snowflake';
import type { Reply } from '../common/types';
import type { RequestHandoffInput } from '../machines/types';

/** Queue a human handoff; a retried call finds the open ticket instead of opening a second one. */
export function makeRequestHandoff(ds: DataSource, ids: Snowflake) {
  return async function requestHandoff(input: RequestHandoffInput): Promise<{ ticketId: string; status: 'queued' }> {
    return ds.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO handoffs (id, conversation_id, status, reason) VALUES ($1, $2, 'queued', $3)
         ON CONFLICT (conversation_id) WHERE status <> 'closed' DO NOTHING`,
        [ids.next(), input.conversationId, input.reason],
      );
      const [row] = await tx.query(`SELECT id FROM handoffs WHERE conversation_id = $1 AND status <> 'closed'`, [
        input.conversationId,
      ]);
      await tx.query(`UPDATE conversations SET handoff_status = 'queued', updated_at = now() WHERE id = $1`, [
        input.conversationId,
      ]);
      return { ticketId: String(row.id), status: 'queued' as const };
    });
  };
}

/** Mark the conversation closed and store the closing replies, once. */
export function makeCloseConversation(ds: DataSource, ids: Snowflake) {
  return async function closeConversation(input: {
    conversationId: string;
    reason: 'goodbye' | 'inactivity';
    replies: Reply[];
  }): Promise<void> {
    await ds.transaction(async (tx) => {
      const [rows] = await tx.query(
        `UPDATE conversations SET status = 'closed', state = 'closed', closed_at = now(), updated_at = now()
         WHERE id = $1 AND closed_at IS NULL RETURNING user_id`,
        [input.conversationId],
      );
      const updated = rows[0]; // TypeORM returns [rows, count] for UPDATE
      if (!updated?.user_id) return;
      for (const r of input.replies) {
        await tx.query(
          `INSERT INTO messages (id, conversation_id, user_id, sender, channel, text, kind, options)
           VALUES ($1, $2, $3, 'bot', 'system', $4, $5, $6)`,
          [ids.next(), input.conversationId, updated.user_id, r.text, r.kind, r.options ? JSON.stringify(r.options) : null],
        );
      }
    });
  };
}
