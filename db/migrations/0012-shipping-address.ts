import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The order's shipping address in the platform stand-in, so the bot's address change has something to change. */
export class ShippingAddress1767225600012 implements MigrationInterface {
  name = 'ShippingAddress1767225600012';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE platform_orders ADD COLUMN shipping_address text`);
    await q.query(`ALTER TABLE platform_order_actions ADD COLUMN detail text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE platform_orders DROP COLUMN shipping_address`);
    await q.query(`ALTER TABLE platform_order_actions DROP COLUMN detail`);
  }
}
