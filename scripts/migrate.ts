import { publishCommittedChart } from '../db/chart-registry';
import { openDatabase } from '../db/data-source';
import { seedKnowledge } from '../knowledge/store';
import { publishArtifacts } from '../models/registry';
import { seedDemoPlatform } from '../platform/demo-data';
import { PlatformStore } from '../platform/store';

/**
 * Bring the schema up to date, load the knowledge files and the demo shop, and publish the committed
 * models and chart unless their registries already have them; safe to run again.
 */
export async function migrateAndSeed(url?: string) {
  const ds = await openDatabase(url);
  try {
    await seedDemoPlatform(new PlatformStore(ds));
    await publishArtifacts(ds, undefined, { ifUnknown: true });
    const chart = await publishCommittedChart(ds);
    return { knowledge: await seedKnowledge(ds), chart };
  } finally {
    await ds.destroy();
  }
}

if (require.main === module) {
  migrateAndSeed()
    .then((r) => console.log(`[migrate] schema up to date; knowledge: ${r.knowledge.inserted} new, ${r.knowledge.updated} updated; chart v${r.chart.version}`))
    .catch((err) => {
      console.error('[migrate] failed:', err.message);
      process.exit(1);
    });
}
