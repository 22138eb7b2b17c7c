import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How a channel's own identity (a caller's phone number, an e-mail sender) maps to a user: only a hash of the
 * contact is kept (the raw number stays in the platform's account, not stored twice). A contact the platform
 * does not know gets a guest user until the caller is verified; then the link points at the verified user.
 */
export class Identities1767225600007 implements MigrationInterface {
  name = 'Identities1767225600007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE identity_links (
        contact_hash char(64) PRIMARY KEY,
        kind varchar(8) NOT NULL,
        user_id varchar(64) NOT NULL,
        source varchar(16) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        verified_at timestamptz
      )`);
    await q.query(`CREATE INDEX identity_links_user ON identity_links (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE identity_links');
  }
}
