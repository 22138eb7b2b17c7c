import path from 'node:path';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import { createActivities } from '../activities';
import { KnowledgeHolder } from '../activities/knowledge-holder';
import { Snowflake } from '../common/snowflake';

export const WORKFLOWS_PATH = path.join(__dirname, '../workflows/index.ts');

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundle the workflow code once per process; every worker and replayer shares it. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  return bundle;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };

export interface ConversationWorker {
  worker: Worker;
  knowledge: KnowledgeHolder;
}

/** A worker for the conversation task queue: workflows plus all their activities. */
export async function createConversationWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  ds: DataSource;
  nodeId: number;
  knowledgeRefreshMs?: number;
}): Promise<ConversationWorker> {
  const knowledge = new KnowledgeHolder(opts.ds);
  // Without knowledge the worker still runs: the chart answers with its menu fallback.
  await knowledge.load().catch((err) => console.warn('[worker] knowledge not loaded:', err.message));
  if (opts.knowledgeRefreshMs) knowledge.watch(opts.knowledgeRefreshMs);
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ ds: opts.ds, knowledge, ids: new Snowflake(opts.nodeId) }),
    maxCachedWorkflows: 2000,
    stickyQueueScheduleToStartTimeout: '5s',
  });
  return { worker, knowledge };
}
