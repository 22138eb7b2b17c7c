import { openDatabase } from '../db/data-source';
import { seedKnowledge } from '../knowledge/store';
import { publishArtifacts } from '../models/registry';
import { seedDemoPlatform } from '../platform/demo-data';
import { PlatformStore } from '../platform/store';

/**
 * Bring the schema up to date, load the knowledge files and the demo shop, and publish the
 * committed models unless the registry already has them; safe to run again.
 */
export async function migrateAndSeed(url?: string): Promise<{ inserted: number; updated: number }> {
  const ds = await openDatabase(url);
  try {
    await seedDemoPlatform(new PlatformStore(ds));
    await publishArtifacts(ds, undefined, { ifUnknown: true });
    return await seedKnowledge(ds);
  } finally {
    await ds.destroy();
  }
}

if (require.main === module) {
  migrateAndSeed()
    .then((r) => console.log(`[migrate] schema up to date; knowledge: ${r.inserted} new, ${r.updated} updated`))
    .catch((err) => {
      console.error('[migrate] failed:', err.message);
      process.exit(1);
    });
}
