import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import {
  ACCOUNT_STATUSES,
  LIVE_PERMISSIONS,
  ORDER_STATUSES,
  RECHARGE_STATUSES,
  WITHDRAWAL_STATUSES,
  type AccountFacts,
  type Contact,
  type OrderActionRecord,
  type OrderActionRequest,
  type OrderFacts,
  type PlatformAdapter,
  type RechargeRecord,
  type WithdrawalRecord,
} from '../activities/platform-adapter';
import { RFM_WINDOW_DAYS, rfmScores, TIERS, type RfmScores, type RfmStore, type ScoredUser, type Tier, type TierSource, type UserRfm } from '../activities/rfm';

// The platform's account, order and wallet systems, as a service of ours backed by PostgreSQL
// (db/migrations/0003, 0006 and 0010). The admin API (server/admin.ts) writes through the schemas below.

const userIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const recordIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'record ids are 1–32 characters of A–Z a–z 0–9 _ -');
const money = z.number().nonnegative().max(1_000_000);

export const newUserSchema = z
  .object({
    id: userIdSchema,
    nickname: z.string().min(1).max(40),
    /** Given: set by hand, the RFM recompute never changes it. Absent: the user's tier is the recompute's. */
    tier: z.enum(TIERS).optional(),
    realNameVerified: z.boolean().default(false),
    adult: z.boolean().default(true),
    followers: z.number().int().nonnegative().default(0),
    publicVideos: z.number().int().nonnegative().default(0),
    phone: z.string().regex(/^1[3-9]\d{9}$/, 'phone must be an 11-digit mainland mobile number').optional(),
    email: z.email().max(254).optional(),
    accountStatus: z.enum(ACCOUNT_STATUSES).default('normal'),
    violation: z.string().min(1).max(200).optional(),
    livePermission: z.enum(LIVE_PERMISSIONS).default('none'),
  })
  .strict();

export const newOrderSchema = z
  .object({
    id: z.string().regex(/^\d{8,32}$/, 'order ids are 8–32 digits'),
    userId: userIdSchema,
    product: z.string().min(1).max(100),
    amount: money,
    shippingFee: z.number().nonnegative().max(10_000).default(0),
    status: z.enum(ORDER_STATUSES).default('paid'),
    remoteRegion: z.boolean().default(false),
    freeShippingThreshold: money.default(59),
    carrier: z.string().max(40).optional(),
    trackingNo: z.string().max(40).optional(),
    logisticsEvents: z.array(z.object({ at: z.iso.datetime(), text: z.string().min(1).max(200) }).strict()).max(100).default([]),
    createdAt: z.iso.datetime().optional(),
    shippedAt: z.iso.datetime().optional(),
    deliveredAt: z.iso.datetime().optional(),
  })
  .strict();

export const newRechargeSchema = z
  .object({
    id: recordIdSchema,
    userId: userIdSchema,
    amount: money.positive(),
    coins: z.number().int().nonnegative(),
    status: z.enum(RECHARGE_STATUSES).default('pending'),
    createdAt: z.iso.datetime().optional(),
    creditedAt: z.iso.datetime().optional(),
  })
  .strict();

export const newWithdrawalSchema = z
  .object({
    id: recordIdSchema,
    userId: userIdSchema,
    amount: money.positive(),
    status: z.enum(WITHDRAWAL_STATUSES).default('reviewing'),
    failureReason: z.string().min(1).max(200).optional(),
    createdAt: z.iso.datetime().optional(),
    paidAt: z.iso.datetime().optional(),
  })
  .strict();

export type NewUser = z.input<typeof newUserSchema>;
export type NewOrder = z.input<typeof newOrderSchema>;
export type NewRecharge = z.input<typeof newRechargeSchema>;
export type NewWithdrawal = z.input<typeof newWithdrawalSchema>;

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
const maskPhone = (p: string | null) => (p ? `${p.slice(0, 3)}****${p.slice(-4)}` : null);

/** The account as an admin sees it: the bot's view plus where the tier comes from and the last RFM computation. */
export interface AccountWithTier extends AccountFacts {
  tier: Tier;
  tierSource: TierSource;
  tierComputedAt: string | null;
  /** The last recompute's values (null before the first), the scores the thresholds give them, and the tier they earn. */
  rfm: { recencyDays: number | null; frequency: number; monetary: number; scores: RfmScores; tier: Tier } | null;
}

export class PlatformStore implements PlatformAdapter, RfmStore {
  constructor(private readonly ds: DataSource) {}

  /**
   * Create or replace a user. With a tier, the tier is manual; without one the user is (again) rfm-managed and has
   * the tier the last recompute gave them (standard before the first), so editing a nickname keeps a computed tier.
   */
  async upsertUser(input: NewUser): Promise<void> {
    const u = newUserSchema.parse(input);
    await this.ds.query(
      `INSERT INTO platform_users (id, nickname, tier, tier_source, real_name_verified, adult, followers, public_videos, bound_phone,
                                   email, account_status, violation, live_permission)
       VALUES ($1, $2, COALESCE($3::varchar, 'standard'), CASE WHEN $3::varchar IS NULL THEN 'rfm' ELSE 'manual' END,
               $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (id) DO UPDATE SET nickname = EXCLUDED.nickname,
         tier = COALESCE($3::varchar, platform_users.rfm_tier, 'standard'), tier_source = EXCLUDED.tier_source,
         real_name_verified = EXCLUDED.real_name_verified, adult = EXCLUDED.adult, followers = EXCLUDED.followers,
         public_videos = EXCLUDED.public_videos, bound_phone = EXCLUDED.bound_phone, email = EXCLUDED.email,
         account_status = EXCLUDED.account_status, violation = EXCLUDED.violation, live_permission = EXCLUDED.live_permission`,
      [u.id, u.nickname, u.tier ?? null, u.realNameVerified, u.adult, u.followers, u.publicVideos, u.phone ?? null, u.email ?? null,
        u.accountStatus, u.violation ?? null, u.livePermission],
    );
  }

  /** Create or replace an order; the user must exist. */
  async upsertOrder(input: NewOrder): Promise<void> {
    const o = newOrderSchema.parse(input);
    await this.ds.query(
      `INSERT INTO platform_orders (id, user_id, product, amount, shipping_fee, status, remote_region, free_shipping_threshold,
                                    carrier, tracking_no, logistics_events, created_at, shipped_at, delivered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, COALESCE($12::timestamptz, now()), $13, $14)
       ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, product = EXCLUDED.product, amount = EXCLUDED.amount,
         shipping_fee = EXCLUDED.shipping_fee, status = EXCLUDED.status, remote_region = EXCLUDED.remote_region,
         free_shipping_threshold = EXCLUDED.free_shipping_threshold, carrier = EXCLUDED.carrier,
         tracking_no = EXCLUDED.tracking_no, logistics_events = EXCLUDED.logistics_events, created_at = EXCLUDED.created_at,
         shipped_at = EXCLUDED.shipped_at, delivered_at = EXCLUDED.delivered_at`,
      [o.id, o.userId, o.product, o.amount, o.shippingFee, o.status, o.remoteRegion, o.freeShippingThreshold, o.carrier ?? null,
        o.trackingNo ?? null, JSON.stringify(o.logisticsEvents), o.createdAt ?? null, o.shippedAt ?? null, o.deliveredAt ?? null],
    );
  }

  async upsertRecharge(input: NewRecharge): Promise<void> {
    const r = newRechargeSchema.parse(input);
    await this.ds.query(
      `INSERT INTO platform_recharges (id, user_id, amount, coins, status, created_at, credited_at)
       VALUES ($1, $2, $3, $4, $5, COALESCE($6::timestamptz, now()), $7)
       ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, amount = EXCLUDED.amount, coins = EXCLUDED.coins,
         status = EXCLUDED.status, created_at = EXCLUDED.created_at, credited_at = EXCLUDED.credited_at`,
      [r.id, r.userId, r.amount, r.coins, r.status, r.createdAt ?? null, r.creditedAt ?? null],
    );
  }

  async upsertWithdrawal(input: NewWithdrawal): Promise<void> {
    const w = newWithdrawalSchema.parse(input);
    await this.ds.query(
      `INSERT INTO platform_withdrawals (id, user_id, amount, status, failure_reason, created_at, paid_at)
       VALUES ($1, $2, $3, $4, $5, COALESCE($6::timestamptz, now()), $7)
       ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, amount = EXCLUDED.amount, status = EXCLUDED.status,
         failure_reason = EXCLUDED.failure_reason, created_at = EXCLUDED.created_at, paid_at = EXCLUDED.paid_at`,
      [w.id, w.userId, w.amount, w.status, w.failureReason ?? null, w.createdAt ?? null, w.paidAt ?? null],
    );
  }

  async userExists(id: string): Promise<boolean> {
    return (await this.ds.query(`SELECT 1 FROM platform_users WHERE id = $1`, [id])).length > 0;
  }

  async findAccount(userId: string): Promise<AccountFacts | null> {
    const [r] = await this.ds.query(`SELECT * FROM platform_users WHERE id = $1`, [userId]);
    return r ? accountFacts(r) : null;
  }

  async findAccountWithTier(userId: string): Promise<AccountWithTier | null> {
    const [r] = await this.ds.query(`SELECT * FROM platform_users WHERE id = $1`, [userId]);
    if (!r) return null;
    const computed = r.tier_computed_at !== null;
    const facts = { recencyDays: r.rfm_recency_days, frequency: r.rfm_frequency, monetary: Number(r.rfm_monetary) };
    return {
      ...accountFacts(r),
      tier: r.tier,
      tierSource: r.tier_source,
      tierComputedAt: iso(r.tier_computed_at),
      rfm: computed ? { ...facts, scores: rfmScores(facts), tier: r.rfm_tier } : null,
    };
  }

  /**
   * One batch of users with their RFM facts as of `asOf`: orders that were not cancelled or refunded (the money was
   * spent) by creation time, and credited recharges by crediting time, in the RFM_WINDOW_DAYS before `asOf`.
   */
  async rfmFactsPage(asOf: Date, afterId: string, limit: number): Promise<UserRfm[]> {
    const rows = await this.ds.query(
      `SELECT u.id, o.n + r.n AS frequency, o.total + r.total AS monetary,
              floor(extract(epoch FROM $1::timestamptz - GREATEST(o.last, r.last)) / 86400)::int AS recency_days
       FROM platform_users u
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS n, COALESCE(sum(amount), 0) AS total, max(created_at) AS last FROM platform_orders
         WHERE user_id = u.id AND status NOT IN ('cancelled', 'refunded')
           AND created_at > $1::timestamptz - make_interval(days => $4) AND created_at <= $1::timestamptz) o
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS n, COALESCE(sum(amount), 0) AS total, max(COALESCE(credited_at, created_at)) AS last
         FROM platform_recharges
         WHERE user_id = u.id AND status = 'credited'
           AND COALESCE(credited_at, created_at) > $1::timestamptz - make_interval(days => $4)
           AND COALESCE(credited_at, created_at) <= $1::timestamptz) r
       WHERE u.id > $2 ORDER BY u.id LIMIT $3`,
      [asOf.toISOString(), afterId, limit, RFM_WINDOW_DAYS],
    );
    return rows.map((r: Record<string, unknown>) => ({
      userId: String(r.id),
      facts: { recencyDays: r.recency_days as number | null, frequency: Number(r.frequency), monetary: Number(r.monetary) },
    }));
  }

  async applyRfmTiers(asOf: Date, users: ScoredUser[]): Promise<number> {
    if (users.length === 0) return 0;
    // A run older than the stored values (a late retry) writes nothing; the same run again writes the same values.
    // The tier is the user's own only while rfm-managed, read from the row as updated, so a concurrent manual PUT wins.
    const rows = await this.ds.query(
      `UPDATE platform_users u
       SET rfm_recency_days = v.recency_days, rfm_frequency = v.frequency, rfm_monetary = v.monetary, rfm_tier = v.tier,
           tier_computed_at = $6::timestamptz, tier = CASE WHEN u.tier_source = 'rfm' THEN v.tier ELSE u.tier END
       FROM (
         SELECT v.*, p.tier AS old_tier
         FROM unnest($1::varchar[], $2::int[], $3::int[], $4::numeric[], $5::varchar[]) AS v(id, recency_days, frequency, monetary, tier)
         JOIN platform_users p ON p.id = v.id
       ) v
       WHERE u.id = v.id AND (u.tier_computed_at IS NULL OR u.tier_computed_at <= $6::timestamptz)
       RETURNING u.tier <> v.old_tier AS changed`,
      [
        users.map((u) => u.userId),
        users.map((u) => u.facts.recencyDays),
        users.map((u) => u.facts.frequency),
        users.map((u) => u.facts.monetary),
        users.map((u) => u.tier),
        asOf.toISOString(),
      ],
    );
    // TypeORM answers an UPDATE … RETURNING with [rows, affected count].
    const returned: Array<{ changed: boolean }> = Array.isArray(rows[0]) ? rows[0] : rows;
    return returned.filter((r) => r.changed).length;
  }

  async tierCounts(): Promise<{ users: number; manual: number; tiers: Record<Tier, number> }> {
    const rows = await this.ds.query(`SELECT tier, tier_source, count(*)::int AS n FROM platform_users GROUP BY tier, tier_source`);
    const tiers = Object.fromEntries(TIERS.map((t) => [t, 0])) as Record<Tier, number>;
    let users = 0;
    let manual = 0;
    for (const r of rows as Array<{ tier: Tier; tier_source: TierSource; n: number }>) {
      tiers[r.tier] += r.n;
      users += r.n;
      if (r.tier_source === 'manual') manual += r.n;
    }
    return { users, manual, tiers };
  }

  async performOrderAction(req: OrderActionRequest): Promise<OrderActionRecord> {
    return this.ds.transaction(async (tx) => {
      // One at a time per key: a concurrent duplicate waits here and then finds the first record.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [req.idempotencyKey]);
      const [done] = await tx.query(`SELECT * FROM platform_order_actions WHERE idempotency_key = $1`, [req.idempotencyKey]);
      if (done) return actionRecord(done);
      const [order] = await tx.query(`SELECT * FROM platform_orders WHERE id = $1 AND user_id = $2 FOR UPDATE`, [req.orderId, req.userId]);
      const refusal = order ? refusalOf(req.type, orderFacts(order)) : '找不到这个订单';
      if (!refusal && req.type === 'order_cancelled') await tx.query(`UPDATE platform_orders SET status = 'cancelled' WHERE id = $1`, [req.orderId]);
      if (!refusal && req.type === 'return_opened') await tx.query(`UPDATE platform_orders SET status = 'refunding' WHERE id = $1`, [req.orderId]);
      if (!refusal && req.type === 'address_changed') {
        await tx.query(`UPDATE platform_orders SET shipping_address = $2 WHERE id = $1`, [req.orderId, req.address]);
      }
      const [row] = await tx.query(
        `INSERT INTO platform_order_actions (id, idempotency_key, user_id, order_id, type, status, reason, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
        [`ACT-${randomUUID()}`, req.idempotencyKey, req.userId, req.orderId, req.type, refusal ? 'refused' : 'done', refusal, req.address ?? null],
      );
      return actionRecord(row);
    });
  }

  async orderActions(userId: string): Promise<OrderActionRecord[]> {
    const rows = await this.ds.query(`SELECT * FROM platform_order_actions WHERE user_id = $1 ORDER BY created_at DESC`, [userId]);
    return rows.map(actionRecord);
  }

  async findUserByContact(contact: Contact): Promise<string | null> {
    const [r] =
      contact.kind === 'phone'
        ? await this.ds.query(`SELECT id FROM platform_users WHERE bound_phone = $1`, [contact.value])
        : await this.ds.query(`SELECT id FROM platform_users WHERE lower(email) = $1`, [contact.value]);
    return r?.id ?? null;
  }

  async verifyByOrder(orderId: string, phoneLast4: string): Promise<string | null> {
    const [r] = await this.ds.query(
      `SELECT u.id FROM platform_orders o JOIN platform_users u ON u.id = o.user_id
       WHERE o.id = $1 AND u.bound_phone IS NOT NULL AND right(u.bound_phone, 4) = $2`,
      [orderId, phoneLast4],
    );
    return r?.id ?? null;
  }

  async findOrder(userId: string, orderId: string): Promise<OrderFacts | null> {
    const [r] = await this.ds.query(`SELECT * FROM platform_orders WHERE id = $1 AND user_id = $2`, [orderId, userId]);
    return r ? orderFacts(r) : null;
  }

  async recentOrders(userId: string, limit: number): Promise<OrderFacts[]> {
    const rows = await this.ds.query(`SELECT * FROM platform_orders WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, [
      userId,
      limit,
    ]);
    return rows.map(orderFacts);
  }

  async recentRecharges(userId: string, limit: number): Promise<RechargeRecord[]> {
    const rows = await this.ds.query(`SELECT * FROM platform_recharges WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2`, [userId, limit]);
    return rows.map((r: Record<string, unknown>) => ({
      id: String(r.id),
      amount: Number(r.amount),
      coins: Number(r.coins),
      status: r.status as RechargeRecord['status'],
      createdAt: iso(r.created_at as Date)!,
      creditedAt: iso(r.credited_at as Date | null),
    }));
  }

  async recentWithdrawals(userId: string, limit: number): Promise<WithdrawalRecord[]> {
    const rows = await this.ds.query(`SELECT * FROM platform_withdrawals WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2`, [userId, limit]);
    return rows.map((r: Record<string, unknown>) => ({
      id: String(r.id),
      amount: Number(r.amount),
      status: r.status as WithdrawalRecord['status'],
      failureReason: (r.failure_reason as string | null) ?? null,
      createdAt: iso(r.created_at as Date)!,
      paidAt: iso(r.paid_at as Date | null),
    }));
  }
}

const RETURN_WINDOW_DAYS = 7;

/** Why the platform will not do this to the order now; null when it will. */
function refusalOf(type: OrderActionRequest['type'], o: OrderFacts): string | null {
  switch (type) {
    case 'order_cancelled':
      return o.status === 'paid' ? null : '订单已经发货或已结束，不能直接取消';
    case 'address_changed':
      return o.status === 'paid' ? null : '订单已经发货，不能再改地址';
    case 'return_opened': {
      if (o.status !== 'delivered' || !o.deliveredAt) return '订单还没有签收';
      const days = (Date.now() - Date.parse(o.deliveredAt)) / 86_400_000;
      return days <= RETURN_WINDOW_DAYS ? null : `已签收超过 ${RETURN_WINDOW_DAYS} 天，不在无理由退货期内`;
    }
    case 'reship_requested':
      return o.status === 'delivered' ? null : '订单还没有签收';
    case 'complaint_filed':
      return o.status === 'shipped' ? null : '订单不在运输途中';
  }
}

function accountFacts(r: Record<string, any>): AccountFacts {
  return {
    userId: r.id,
    nickname: r.nickname,
    tier: r.tier,
    realNameVerified: r.real_name_verified,
    adult: r.adult,
    followers: r.followers,
    publicVideos: r.public_videos,
    phoneMasked: maskPhone(r.bound_phone),
    status: r.account_status,
    violation: r.violation,
    livePermission: r.live_permission,
  };
}

function actionRecord(r: Record<string, any>): OrderActionRecord {
  return { id: r.id, type: r.type, orderId: r.order_id, status: r.status, reason: r.reason, createdAt: iso(r.created_at)! };
}

function orderFacts(r: Record<string, any>): OrderFacts {
  return {
    orderId: r.id,
    product: r.product,
    amount: Number(r.amount),
    shippingFee: Number(r.shipping_fee),
    status: r.status,
    remoteRegion: r.remote_region,
    freeShippingThreshold: Number(r.free_shipping_threshold),
    carrier: r.carrier,
    trackingNo: r.tracking_no,
    logisticsEvents: r.logistics_events,
    createdAt: iso(r.created_at)!,
    shippedAt: iso(r.shipped_at),
    deliveredAt: iso(r.delivered_at),
  };
}
