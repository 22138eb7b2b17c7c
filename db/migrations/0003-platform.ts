import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The platform's own systems (accounts and shop orders) as this project's stand-in service.
 * The bot reaches them only through the adapter in activities/platform.ts.
 */
export class Platform1767225600003 implements MigrationInterface {
  name = 'Platform1767225600003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform_users (
        id varchar(64) PRIMARY KEY,
        nickname text NOT NULL,
        tier varchar(16) NOT NULL DEFAULT 'standard',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE platform_orders (
        id varchar(32) PRIMARY KEY,
        user_id varchar(64) NOT NULL REFERENCES platform_users(id),
        product text NOT NULL,
        amount numeric(10, 2) NOT NULL CHECK (amount >= 0),
        shipping_fee numeric(10, 2) NOT NULL DEFAULT 0 CHECK (shipping_fee >= 0),
        status varchar(16) NOT NULL,
        remote_region boolean NOT NULL DEFAULT false,
        carrier text,
        tracking_no text,
        created_at timestamptz NOT NULL DEFAULT now(),
        shipped_at timestamptz,
        delivered_at timestamptz
      )`);
    await q.query(`CREATE INDEX platform_orders_user ON platform_orders (user_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE platform_orders, platform_users');
  }
}
