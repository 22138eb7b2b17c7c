import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** Limits on compensation: per user over 30 days, per conversation, and for the whole platform per day (yuan / count). */
export interface CouponBudgets {
  perUser30Days: number;
  perConversation: number;
  dailyTotal: number;
}

export type CouponOutcome =
  | { issued: true; id: string; amount: number; repeated: boolean }
  | { issued: false; reason: 'already_compensated' | 'conversation_limit' | 'user_budget' | 'daily_budget' };

export interface CouponRecord {
  id: string;
  conversationId: string;
  amount: number;
  reason: string;
  createdAt: string;
}

/**
 * The one owner of `coupons`: a coupon is issued at most once per incident (a repeat of the same request gets the
 * same coupon back, flagged `repeated`), and only within budget; everything in one transaction under a lock on the
 * incident, so concurrent or retried requests cannot both pass.
 */
export class CouponStore {
  constructor(
    private readonly ds: DataSource,
    private readonly budgets: CouponBudgets,
  ) {}

  async issue(req: { incidentKey: string; userId: string; conversationId: string; amount: number; reason: string }): Promise<CouponOutcome> {
    return this.ds.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`coupon:${req.userId}`]);
      const [same] = await tx.query(`SELECT id, amount, conversation_id FROM coupons WHERE incident_key = $1`, [req.incidentKey]);
      if (same) {
        // The same request again (a retried activity or turn) gets its coupon; another conversation about it gets none.
        return String(same.conversation_id) === req.conversationId
          ? { issued: true as const, id: same.id, amount: Number(same.amount), repeated: true }
          : { issued: false as const, reason: 'already_compensated' as const };
      }
      const [{ n }] = await tx.query(`SELECT count(*)::int AS n FROM coupons WHERE conversation_id = $1`, [req.conversationId]);
      if (n >= this.budgets.perConversation) return { issued: false as const, reason: 'conversation_limit' as const };
      const [{ spent }] = await tx.query(
        `SELECT COALESCE(sum(amount), 0)::float AS spent FROM coupons WHERE user_id = $1 AND created_at > now() - interval '30 days'`,
        [req.userId],
      );
      if (spent + req.amount > this.budgets.perUser30Days) return { issued: false as const, reason: 'user_budget' as const };
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('coupons:daily'))`);
      const [{ today }] = await tx.query(
        `SELECT COALESCE(sum(amount), 0)::float AS today FROM coupons WHERE created_at >= date_trunc('day', now())`,
      );
      if (today + req.amount > this.budgets.dailyTotal) return { issued: false as const, reason: 'daily_budget' as const };
      const id = `CPN-${randomUUID()}`;
      await tx.query(
        `INSERT INTO coupons (id, incident_key, user_id, conversation_id, amount, reason) VALUES ($1, $2, $3, $4, $5, $6)`,
        [id, req.incidentKey, req.userId, req.conversationId, req.amount, req.reason],
      );
      return { issued: true as const, id, amount: req.amount, repeated: false };
    });
  }

  async list(userId: string): Promise<CouponRecord[]> {
    const rows = await this.ds.query(`SELECT * FROM coupons WHERE user_id = $1 ORDER BY created_at DESC`, [userId]);
    return rows.map((r: Record<string, any>) => ({
      id: r.id,
      conversationId: String(r.conversation_id),
      amount: Number(r.amount),
      reason: r.reason,
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }
}
