/**
 * Leave-one-batch-out validation of intent training settings, on train lines only.
 *
 *   tsx models/batch-validation.ts [--settings '{"name": {"featurizer": {...}, "options": {...}}, ...}'] [--threshold 0.3]
 *
 * Each corpus file (intent.jsonl's train lines, intent-extra*.jsonl) was written as a separate batch, later
 * batches on purpose in wording the earlier ones lacked. Holding out a whole batch and training on the others
 * therefore measures what the held-out test split measures — new wording — far better than a CV fold, whose
 * lines are paraphrases of their neighbours. Settings are chosen here; the test split is never read.
 *
 * Prints, per settings entry and held-out batch, accuracy (%) at argmax / with the oos threshold (--threshold, default 0.3).
 * Without --settings it compares the committed defaults (models/train-task.ts) with the previous ones.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { loadJsonl, type Example } from './data';
import { Featurizer, type FeaturizerSettings } from './featurize';
import { forwardSparse } from './network';
import { decide } from './decision';
import { parseArgs } from './cli-args';
import { CORPUS } from './corpus';
import { trainNetwork, type TrainOptions } from './optimizer';
import { DEFAULT_FEATURIZERS, DEFAULT_TRAIN_OPTIONS } from './train-task';

const SettingsSchema = z.record(z.string(), z.object({ featurizer: z.record(z.string(), z.unknown()).optional(), options: z.record(z.string(), z.unknown()).optional() }));
/** Overrides of the intent featurizer and training defaults of models/train-task.ts. */
export interface BatchSettings {
  featurizer?: Partial<FeaturizerSettings>;
  options?: Partial<TrainOptions>;
}
type Settings = Record<string, BatchSettings>;

/** The settings before the leave-one-batch-out comparison (kept to show the difference). */
const DEFAULT_COMPARISON: Settings = {
  'previous (2^14, l2 1e-5, no dropout)': { featurizer: { dim: 1 << 14 }, options: { l2: 1e-5, inputDropout: 0 } },
  current: {},
};

export interface BatchResult {
  heldOut: string;
  n: number;
  accuracyArgmax: number;
  accuracyAtThreshold: number;
}

/** Train on every batch but one, score the held-out batch; once per batch. */
export function leaveOneBatchOut(batches: ReadonlyMap<string, Example[]>, settings: BatchSettings, threshold: number): BatchResult[] {
  const out: BatchResult[] = [];
  for (const [heldOut, val] of batches) {
    const train = [...batches].filter(([name]) => name !== heldOut).flatMap(([, lines]) => lines);
    const labels = [...new Set(train.map((e) => e.label))].sort();
    const index = new Map(labels.map((l, i) => [l, i]));
    const featurizer = new Featurizer({ ...DEFAULT_FEATURIZERS.intent, ...settings.featurizer });
    const net = trainNetwork(
      train.map((e) => ({ x: featurizer.featurize(e.text), y: index.get(e.label)! })),
      labels,
      featurizer.dim,
      { ...DEFAULT_TRAIN_OPTIONS.intent, ...settings.options },
    );
    let argmaxOk = 0;
    let thresholdOk = 0;
    for (const e of val) {
      const p = forwardSparse(net, featurizer.featurize(e.text));
      if (labels[decide(p, labels, undefined)] === e.label) argmaxOk++;
      if (labels[decide(p, labels, threshold)] === e.label) thresholdOk++;
    }
    out.push({ heldOut, n: val.length, accuracyArgmax: argmaxOk / val.length, accuracyAtThreshold: thresholdOk / val.length });
  }
  return out;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  for (const key of Object.keys(args)) if (!['settings', 'threshold'].includes(key)) throw new Error(`unknown option --${key}`);
  const settings = args.settings ? (SettingsSchema.parse(JSON.parse(args.settings)) as Settings) : DEFAULT_COMPARISON;
  const threshold = args.threshold !== undefined ? Number(args.threshold) : 0.3;
  if (!(threshold >= 0 && threshold < 1)) throw new Error('--threshold must be a number in [0, 1)');
  const batches = new Map(CORPUS.intent.map((f) => [path.basename(f, '.jsonl'), loadJsonl(f).filter((e) => e.split !== 'test')]));
  console.log(`accuracy % at argmax / with oos threshold ${threshold}; held-out batches: ${[...batches].map(([k, v]) => `${k} (${v.length})`).join(', ')}`);
  for (const [name, s] of Object.entries(settings)) {
    const results = leaveOneBatchOut(batches, s, threshold);
    const total = results.reduce((a, r) => a + r.n, 0);
    const mean = (key: 'accuracyArgmax' | 'accuracyAtThreshold') => (100 * results.reduce((a, r) => a + r[key] * r.n, 0)) / total;
    const cells = results.map((r) => `${r.heldOut} ${(100 * r.accuracyArgmax).toFixed(1)} / ${(100 * r.accuracyAtThreshold).toFixed(1)}`);
    console.log(`${name}: ${cells.join(' | ')} | all ${mean('accuracyArgmax').toFixed(1)} / ${mean('accuracyAtThreshold').toFixed(1)}`);
  }
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
