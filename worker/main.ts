import { NativeConnection } from '@temporalio/worker';
import { config } from '../common/config';
import { temporalConnectionOptions } from '../common/temporal-connection';
import { openDatabase } from '../db/data-source';
import { createConversationWorker } from './create';

/** Worker process: runs conversation workflows and their activities until SIGINT/SIGTERM. */
async function main() {
  const ds = await openDatabase();
  const connection = await NativeConnection.connect(temporalConnectionOptions(process.env, config.temporalAddress));
  const { worker, stopWatching } = await createConversationWorker({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    ds,
    nodeId: config.nodeId,
    modelCacheDir: config.modelCacheDir,
    refreshMs: config.refreshMs,
  });
  console.log(`[worker] polling ${config.taskQueue} on ${config.temporalAddress}`);
  await worker.run(); // shuts down gracefully on SIGINT/SIGTERM
  stopWatching();
  await connection.close();
  await ds.destroy();
}

main().catch((err) => {
  console.error('[worker] fatal', err);
  process.exit(1);
});
