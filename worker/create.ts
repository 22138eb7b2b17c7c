import path from 'node:path';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import { createActivities } from '../activities';
import { KnowledgeHolder } from '../activities/knowledge-holder';
import { ModelHolder } from '../activities/model-holder';
import { Snowflake } from '../common/snowflake';
import { EncoderHolder } from '../activities/encoder-holder';
import { WorkerStatusReporter } from './status';

const WORKFLOWS_PATH = path.join(__dirname, '../workflows/index.ts');

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundle the workflow code once per process; every worker and replayer shares it. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  return bundle;
}

let encoder: Promise<EncoderHolder> | undefined;
/** The sentence encoder, loaded once per process (~1.5 s) and shared by every worker of it. */
function sharedEncoder(): Promise<EncoderHolder> {
  encoder ??= (async () => {
    const holder = new EncoderHolder();
    await holder.load();
    return holder;
  })();
  return encoder;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };

export interface ConversationWorker {
  worker: Worker;
  knowledge: KnowledgeHolder;
  models: ModelHolder;
  encoder: EncoderHolder;
  /** Stop following knowledge and model changes. */
  stopWatching(): void;
}

/** A worker for the conversation task queue: workflows plus all their activities. */
export async function createConversationWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  ds: DataSource;
  nodeId: number;
  /** Where registry models are written for onnxruntime to load. */
  modelCacheDir: string;
  /** How often to look for knowledge edits and newly published models (0: never). */
  refreshMs?: number;
  /** The sentence encoder; default: the process's shared one. */
  encoder?: EncoderHolder;
}): Promise<ConversationWorker> {
  const encoder = opts.encoder ?? (await sharedEncoder());
  const { state, detail } = encoder.status();
  if (state === 'ready') console.log(`[worker] sentence encoder ready: ${detail}`);
  else console.warn(`[worker] sentence encoder ${state}: ${detail}`);
  const knowledge = new KnowledgeHolder(opts.ds, () => encoder.current());
  const models = new ModelHolder(opts.ds, opts.modelCacheDir);
  const status = new WorkerStatusReporter(opts.ds, opts.taskQueue, opts.nodeId, encoder, models);
  // Without knowledge or models the worker still runs: the chart answers with its menu fallback.
  await knowledge.load().catch((err) => console.warn('[worker] knowledge not loaded:', err.message));
  await models.refreshIfChanged().catch((err) => console.warn('[worker] models not loaded:', err.message));
  await status.report();
  // One timer follows both knowledge edits and newly published models; a failed check waits for the next tick.
  const timer = opts.refreshMs
    ? setInterval(() => {
        void knowledge.refreshIfChanged().catch(() => undefined);
        void models.refreshIfChanged().catch(() => undefined).then(() => status.report());
      }, opts.refreshMs).unref()
    : undefined;
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ ds: opts.ds, knowledge, models, encoder, ids: new Snowflake(opts.nodeId) }),
    maxCachedWorkflows: 2000,
    stickyQueueScheduleToStartTimeout: '5s',
  });
  return {
    worker,
    knowledge,
    models,
    encoder,
    stopWatching: () => clearInterval(timer),
  };
}
