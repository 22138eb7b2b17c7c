import path from 'node:path';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';

const quietLogger = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };

/**
 * Worker process for the benchmark's trivial workflow (tests/bench/trivial-workflow.ts): a process of its
 * own, like the conversation worker, so both baselines pay the same process boundaries.
 * Env: TEMPORAL_ADDRESS, BENCH_TRIVIAL_QUEUE.
 */
async function main() {
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: process.env.BENCH_TRIVIAL_QUEUE ?? 'bench-trivial',
    workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'trivial-workflow.ts'), logger: quietLogger }),
    // As the conversation worker (worker/create.ts), so the two differ only in what a turn does.
    maxCachedWorkflows: 2000,
    stickyQueueScheduleToStartTimeout: '5s',
  });
  console.log('[trivial-worker] ready'); // the benchmark waits for this line
  await worker.run(); // until SIGINT/SIGTERM
  await connection.close();
}

main().catch((err) => {
  console.error('[trivial-worker] fatal', err);
  process.exit(1);
});
