import type { DataSource } from 'typeorm';
import { OnnxClassifier } from '../models/classifier';
import { currentVersions, materialize, MODEL_TASKS, type ModelTask } from '../models/registry';

export type LoadedModels = Record<ModelTask, OnnxClassifier> & { versions: Record<ModelTask, number> };

/** Old sessions are released this long after a swap, so turns already using them finish first. */
const RELEASE_AFTER_MS = 30_000;

/**
 * The worker's current intent and emotion models, loaded from the registry. A newly published version
 * is swapped in without a restart; a version that fails to load leaves the last good models in place.
 * With no loadable model at all, `current()` throws and the chart takes its menu fallback.
 */
export class ModelHolder {
  private models: LoadedModels | undefined;
  private problem = 'models are not loaded yet';

  constructor(private readonly ds: DataSource, private readonly cacheDir: string) {}

  current(): LoadedModels {
    if (!this.models) throw new Error(`intent/emotion models unavailable: ${this.problem}`);
    return this.models;
  }

  /** The loaded models, or undefined (where `current()` would throw). */
  loaded(): LoadedModels | undefined {
    return this.models;
  }

  /** Load the current versions if they differ from what is loaded; true when a swap happened. */
  async refreshIfChanged(): Promise<boolean> {
    const versions = await currentVersions(this.ds);
    const missing = MODEL_TASKS.filter((t) => versions[t] === undefined);
    if (missing.length) {
      this.problem = `no published ${missing.join(' and ')} model (run npm run models:publish)`;
      return false;
    }
    if (this.models && MODEL_TASKS.every((t) => this.models!.versions[t] === versions[t])) return false;
    try {
      const loaded = {} as Record<ModelTask, OnnxClassifier>;
      for (const task of MODEL_TASKS) {
        const same = this.models?.versions[task] === versions[task];
        loaded[task] = same ? this.models![task] : await OnnxClassifier.load(await materialize(this.ds, task, versions[task]!, this.cacheDir), task);
      }
      const old = this.models;
      this.models = { ...loaded, versions: versions as Record<ModelTask, number> };
      if (old) {
        const stale = MODEL_TASKS.map((t) => old[t]).filter((m) => !MODEL_TASKS.some((t) => this.models![t] === m));
        setTimeout(() => stale.forEach((m) => void m.release()), RELEASE_AFTER_MS).unref();
      }
      return true;
    } catch (err) {
      this.problem = (err as Error).message;
      console.error(`[models] keeping ${this.models ? 'the previous models' : 'no models'}: ${this.problem}`);
      return false;
    }
  }
}
