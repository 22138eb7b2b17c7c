import { openDatabase } from '../db/data-source';
import { seedKnowledge } from '../knowledge/store';

/** Bring the schema up to date and load the knowledge files; safe to run again. */
export async function migrateAndSeed(url?: string): Promise<{ inserted: number; updated: number }> {
  const ds = await openDatabase(url);
  try {
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
