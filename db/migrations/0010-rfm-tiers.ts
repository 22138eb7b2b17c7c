import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * RFM tiers on the platform stand-in's users (activities/rfm.ts): where the tier comes from (`manual`, set by an admin
 * and never recomputed, or `rfm`), the last recompute's recency (days), frequency and monetary value (yuan), the tier
 * those earn (kept for manual users too, so an admin sees what RFM would say) and when they were computed.
 * Tiers other than standard could only be set by hand before, so those users become manual.
 */
export class RfmTiers1767225600010 implements MigrationInterface {
  name = 'RfmTiers1767225600010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE platform_users
        ADD COLUMN tier_source varchar(8) NOT NULL DEFAULT 'rfm' CHECK (tier_source IN ('manual', 'rfm')),
        ADD COLUMN rfm_recency_days int CHECK (rfm_recency_days >= 0),
        ADD COLUMN rfm_frequency int CHECK (rfm_frequency >= 0),
        ADD COLUMN rfm_monetary numeric(14, 2) CHECK (rfm_monetary >= 0),
        ADD COLUMN rfm_tier varchar(16),
        ADD COLUMN tier_computed_at timestamptz`);
    await q.query(`UPDATE platform_users SET tier_source = 'manual' WHERE tier <> 'standard'`);
    await q.query(`ALTER TABLE platform_users ADD CONSTRAINT platform_users_tier CHECK (tier IN ('standard', 'silver', 'gold', 'vip'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE platform_users DROP CONSTRAINT platform_users_tier, DROP COLUMN tier_source, DROP COLUMN rfm_recency_days,
                   DROP COLUMN rfm_frequency, DROP COLUMN rfm_monetary, DROP COLUMN rfm_tier, DROP COLUMN tier_computed_at`);
  }
}
