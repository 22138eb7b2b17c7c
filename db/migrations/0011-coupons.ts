import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Compensation coupons. `incident_key` (user + topic + the order or account concerned) makes a coupon at most once
 * per incident, whoever asks and however often; budgets are checked in the same transaction (db/coupon-store.ts).
 */
export class Coupons1767225600011 implements MigrationInterface {
  name = 'Coupons1767225600011';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE coupons (
        id varchar(40) PRIMARY KEY,
        incident_key varchar(200) NOT NULL UNIQUE,
        user_id varchar(64) NOT NULL,
        conversation_id bigint NOT NULL,
        amount numeric(10, 2) NOT NULL CHECK (amount > 0),
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX coupons_user ON coupons (user_id, created_at DESC)`);
    await q.query(`CREATE INDEX coupons_day ON coupons (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE coupons');
  }
}
