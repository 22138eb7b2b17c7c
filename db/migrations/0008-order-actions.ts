import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Actions the platform stand-in took on users' orders for the bot (cancel, return, re-ship, logistics complaint).
 * The idempotency key makes each one happen once: a retried or concurrent request gets the first record back.
 */
export class OrderActions1767225600008 implements MigrationInterface {
  name = 'OrderActions1767225600008';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform_order_actions (
        id varchar(40) PRIMARY KEY,
        idempotency_key varchar(200) NOT NULL UNIQUE,
        user_id varchar(64) NOT NULL,
        order_id varchar(32) NOT NULL,
        type varchar(24) NOT NULL,
        status varchar(12) NOT NULL,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX platform_order_actions_user ON platform_order_actions (user_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE platform_order_actions');
  }
}
