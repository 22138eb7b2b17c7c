import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Contact } from '../activities/platform-adapter';
import { GUEST_PREFIX } from '../common/identity';

/**
 * The one owner of `identity_links`: which user a channel contact (caller number, e-mail sender) is. Only a hash
 * of the contact is stored; the raw number lives in the platform's account.
 */


export const contactHash = (c: Contact) => createHash('sha256').update(`${c.kind}:${c.value}`).digest('hex');

export class IdentityStore {
  constructor(private readonly ds: DataSource) {}

  /**
   * The user behind a contact: a link made before (a verified caller stays verified), else the platform account the
   * contact is bound to, else a guest identity derived from the hash (the same caller is the same guest next time).
   */
  async resolve(contact: Contact, findInPlatform: (c: Contact) => Promise<string | null>): Promise<string> {
    const hash = contactHash(contact);
    const [linked] = await this.ds.query(`SELECT user_id FROM identity_links WHERE contact_hash = $1`, [hash]);
    if (linked) return linked.user_id;
    const platformUser = await findInPlatform(contact);
    const userId = platformUser ?? `${GUEST_PREFIX}${hash.slice(0, 24)}`;
    await this.ds.query(
      `INSERT INTO identity_links (contact_hash, kind, user_id, source) VALUES ($1, $2, $3, $4) ON CONFLICT (contact_hash) DO NOTHING`,
      [hash, contact.kind, userId, platformUser ? 'platform' : 'guest'],
    );
    const [row] = await this.ds.query(`SELECT user_id FROM identity_links WHERE contact_hash = $1`, [hash]);
    return row.user_id;
  }

  /** A guest proved who they are: every contact that led to the guest now leads to the user. */
  async verify(guestId: string, userId: string): Promise<void> {
    await this.ds.query(
      `UPDATE identity_links SET user_id = $2, source = 'verified', verified_at = now() WHERE user_id = $1`,
      [guestId, userId],
    );
  }
}
