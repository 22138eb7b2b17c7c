import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the platform knows about a user that the bot uses in the dialogue: account facts, each order's shop
 * free-shipping threshold and logistics events, recharge and withdrawal records. Part of the platform
 * stand-in (platform/store.ts); the bot reads it only through the adapter (activities/platform-adapter.ts).
 */
export class PlatformFacts1767225600006 implements MigrationInterface {
  name = 'PlatformFacts1767225600006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE platform_users
        ADD COLUMN real_name_verified boolean NOT NULL DEFAULT false,
        ADD COLUMN adult boolean NOT NULL DEFAULT true,
        ADD COLUMN followers int NOT NULL DEFAULT 0 CHECK (followers >= 0),
        ADD COLUMN public_videos int NOT NULL DEFAULT 0 CHECK (public_videos >= 0),
        ADD COLUMN bound_phone varchar(20),
        ADD COLUMN email varchar(254),
        ADD COLUMN account_status varchar(16) NOT NULL DEFAULT 'normal',
        ADD COLUMN violation text,
        ADD COLUMN live_permission varchar(16) NOT NULL DEFAULT 'none'`);
    await q.query(`CREATE UNIQUE INDEX platform_users_phone ON platform_users (bound_phone) WHERE bound_phone IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX platform_users_email ON platform_users (lower(email)) WHERE email IS NOT NULL`);
    await q.query(`
      ALTER TABLE platform_orders
        ADD COLUMN free_shipping_threshold numeric(10, 2) NOT NULL DEFAULT 59 CHECK (free_shipping_threshold >= 0),
        ADD COLUMN logistics_events jsonb NOT NULL DEFAULT '[]'`);
    await q.query(`
      CREATE TABLE platform_recharges (
        id varchar(32) PRIMARY KEY,
        user_id varchar(64) NOT NULL REFERENCES platform_users(id),
        amount numeric(10, 2) NOT NULL CHECK (amount > 0),
        coins int NOT NULL CHECK (coins >= 0),
        status varchar(16) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        credited_at timestamptz
      )`);
    await q.query(`CREATE INDEX platform_recharges_user ON platform_recharges (user_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE platform_withdrawals (
        id varchar(32) PRIMARY KEY,
        user_id varchar(64) NOT NULL REFERENCES platform_users(id),
        amount numeric(10, 2) NOT NULL CHECK (amount > 0),
        status varchar(16) NOT NULL,
        failure_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        paid_at timestamptz
      )`);
    await q.query(`CREATE INDEX platform_withdrawals_user ON platform_withdrawals (user_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE platform_withdrawals, platform_recharges');
    await q.query('ALTER TABLE platform_orders DROP COLUMN logistics_events, DROP COLUMN free_shipping_threshold');
    await q.query(`ALTER TABLE platform_users DROP COLUMN real_name_verified, DROP COLUMN adult, DROP COLUMN followers,
                   DROP COLUMN public_videos, DROP COLUMN bound_phone, DROP COLUMN email, DROP COLUMN account_status,
                   DROP COLUMN violation, DROP COLUMN live_permission`);
  }
}
