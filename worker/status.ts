import { hostname } from 'node:os';
import type { DataSource } from 'typeorm';
import type { EncoderHolder } from '../activities/encoder-holder';
import type { ModelHolder } from '../activities/model-holder';
import { MODEL_TASKS } from '../models/registry';

/** How a worker reads messages, as /healthz shows it. */
export interface WorkerUnderstanding {
  encoder: ReturnType<EncoderHolder['status']>;
  /** Per task: the registry version, and whether it is a fused model that the loaded encoder can serve. */
  models: Record<string, { version: number; fused: boolean; encoderServed: boolean }>;
  mode: 'fused' | 'ngram-only';
}

/** Keeps this worker's row of `worker_status` current (on start and on every check tick). */
export class WorkerStatusReporter {
  readonly workerId: string;
  private readonly startedAt = new Date();

  constructor(
    private readonly ds: DataSource,
    private readonly taskQueue: string,
    nodeId: number,
    private readonly encoder: EncoderHolder,
    private readonly models: ModelHolder,
  ) {
    this.workerId = `${hostname()}:${process.pid}:${nodeId}:${taskQueue}`;
  }

  understanding(): WorkerUnderstanding {
    const enc = this.encoder.current();
    const models: WorkerUnderstanding['models'] = {};
    const loaded = this.models.loaded();
    if (loaded) {
      for (const task of MODEL_TASKS) {
        const m = loaded[task];
        models[task] = { version: loaded.versions[task], fused: !!m.encoderId, encoderServed: !!enc && m.encoderId === enc.id };
      }
    }
    const served = Object.values(models);
    return { encoder: this.encoder.status(), models, mode: served.length > 0 && served.some((m) => m.encoderServed) ? 'fused' : 'ngram-only' };
  }

  async report(): Promise<void> {
    await this.ds
      .query(
        `INSERT INTO worker_status (worker_id, task_queue, started_at, seen_at, understanding) VALUES ($1, $2, $3, now(), $4)
         ON CONFLICT (worker_id) DO UPDATE SET seen_at = now(), understanding = EXCLUDED.understanding`,
        [this.workerId, this.taskQueue, this.startedAt, JSON.stringify(this.understanding())],
      )
      .catch((err: Error) => console.warn('[worker] status not recorded:', err.message));
  }
}
