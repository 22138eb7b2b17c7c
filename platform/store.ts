import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { ORDER_STATUSES, type CustomerFacts, type OrderFacts, type PlatformAdapter } from '../activities/platform-adapter';

// The platform's account and order systems, as a service of ours backed by PostgreSQL (db/migrations/0003).

/** The stand-in's shops all ship free from this paid amount (yuan), except to remote regions. */
const SHOP_FREE_SHIPPING_THRESHOLD = 59;

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

export class PlatformStore implements PlatformAdapter {
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

  async findCustomer(userId: string): Promise<CustomerFacts | null> {
    const [r] = await this.ds.query(`SELECT id, nickname, tier FROM platform_users WHERE id = $1`, [userId]);
    return r ? { userId: r.id, nickname: r.nickname, tier: r.tier } : null;
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
      freeShippingThreshold: SHOP_FREE_SHIPPING_THRESHOLD,
      carrier: r.carrier,
      trackingNo: r.tracking_no,
      createdAt: iso(r.created_at)!,
      shippedAt: iso(r.shipped_at),
      deliveredAt: iso(r.delivered_at),
    };
  }
}
