import type { DataSource } from 'typeorm';
import { z } from 'zod';

// The platform's account and order systems, as a service of ours backed by PostgreSQL (db/migrations/0003).

/** Platform shop rule: an order paying at least this much ships free, except to remote regions. */
export const FREE_SHIPPING_THRESHOLD = 59;

export const ORDER_STATUSES = ['paid', 'shipped', 'delivered', 'cancelled', 'refunding', 'refunded'] as const;

export const newUserSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    nickname: z.string().min(1).max(40),
    tier: z.enum(['standard', 'vip']).default('standard'),
  })
  .strict();

export const newOrderSchema = z
  .object({
    id: z.string().regex(/^\d{8,32}$/, 'order ids are 8–32 digits'),
    userId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    product: z.string().min(1).max(100),
    amount: z.number().nonnegative().max(1_000_000),
    shippingFee: z.number().nonnegative().max(10_000).default(0),
    status: z.enum(ORDER_STATUSES).default('paid'),
    remoteRegion: z.boolean().default(false),
    carrier: z.string().max(40).optional(),
    trackingNo: z.string().max(40).optional(),
    createdAt: z.iso.datetime().optional(),
    shippedAt: z.iso.datetime().optional(),
    deliveredAt: z.iso.datetime().optional(),
  })
  .strict();

export type NewUser = z.infer<typeof newUserSchema>;
export type NewOrder = z.infer<typeof newOrderSchema>;

/** An order as the bot may see it (plain JSON: it travels through workflow history). */
export interface OrderFacts {
  orderId: string;
  product: string;
  amount: number;
  shippingFee: number;
  status: (typeof ORDER_STATUSES)[number];
  remoteRegion: boolean;
  carrier: string | null;
  trackingNo: string | null;
  createdAt: string;
  shippedAt: string | null;
  deliveredAt: string | null;
}

export class PlatformStore {
  constructor(private readonly ds: DataSource) {}

  async upsertUser(u: NewUser): Promise<void> {
    await this.ds.query(
      `INSERT INTO platform_users (id, nickname, tier) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET nickname = EXCLUDED.nickname, tier = EXCLUDED.tier`,
      [u.id, u.nickname, u.tier],
    );
  }

  /** Create or replace an order; the user must exist. */
  async upsertOrder(o: NewOrder): Promise<void> {
    await this.ds.query(
      `INSERT INTO platform_orders (id, user_id, product, amount, shipping_fee, status, remote_region, carrier, tracking_no,
                                    created_at, shipped_at, delivered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10::timestamptz, now()), $11, $12)
       ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, product = EXCLUDED.product, amount = EXCLUDED.amount,
         shipping_fee = EXCLUDED.shipping_fee, status = EXCLUDED.status, remote_region = EXCLUDED.remote_region,
         carrier = EXCLUDED.carrier, tracking_no = EXCLUDED.tracking_no, created_at = EXCLUDED.created_at,
         shipped_at = EXCLUDED.shipped_at, delivered_at = EXCLUDED.delivered_at`,
      [o.id, o.userId, o.product, o.amount, o.shippingFee, o.status, o.remoteRegion, o.carrier ?? null, o.trackingNo ?? null,
        o.createdAt ?? null, o.shippedAt ?? null, o.deliveredAt ?? null],
    );
  }

  async userExists(id: string): Promise<boolean> {
    return (await this.ds.query(`SELECT 1 FROM platform_users WHERE id = $1`, [id])).length > 0;
  }

  /** The order if it belongs to the user; another user's order is as good as unknown. */
  async findOrder(userId: string, orderId: string): Promise<OrderFacts | null> {
    const [r] = await this.ds.query(`SELECT * FROM platform_orders WHERE id = $1 AND user_id = $2`, [orderId, userId]);
    if (!r) return null;
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
    return {
      orderId: r.id,
      product: r.product,
      amount: Number(r.amount),
      shippingFee: Number(r.shipping_fee),
      status: r.status,
      remoteRegion: r.remote_region,
      carrier: r.carrier,
      trackingNo: r.tracking_no,
      createdAt: iso(r.created_at)!,
      shippedAt: iso(r.shipped_at),
      deliveredAt: iso(r.delivered_at),
    };
  }
}
