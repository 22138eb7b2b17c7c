import { config } from '../common/config';
import { openDatabase } from '../db/data-source';
import { ARTIFACTS_DIR, publishArtifacts } from '../models/registry';

// npm run models:publish [-- DIR]: make the trained artifacts in DIR (default models/artifacts) the current
// versions; running workers swap to them within CS_REFRESH_MS, without a restart.
async function main() {
  const dir = process.argv[2] ?? ARTIFACTS_DIR;
  const ds = await openDatabase(config.databaseUrl);
  try {
    for (const v of await publishArtifacts(ds, dir)) {
      console.log(`${v.task}: ${v.published ? 'published' : 'already current as'} v${v.version} (sha256 ${v.sha256.slice(0, 12)}…)`);
    }
  } finally {
    await ds.destroy();
  }
}

main().catch((err) => {
  console.error('[publish] failed:', err.message);
  process.exit(1);
});
