/**
 * Train the intent and emotion classifiers and write the ONNX graphs + metadata.
 *
 *   tsx models/train.ts [--data file.jsonl[,more.jsonl]] [--task intent|emotion|all] [--out models/artifacts] [--seed N] [--folds 5]
 *                       [--encoder auto|on|off] [--encoder-weight W]
 *
 * Without --data it trains both tasks from models/corpus (see models/corpus.ts). --data trains one task
 * (--task intent or emotion, default intent) from any JSONL of {"text","label","split"?}; when no line has a
 * "split", a seeded, stratified 10% is held out as test. See models/train-task.ts for what training does.
 *
 * --encoder (default auto: on when the sentence encoder loads) trains a fused model: the n-gram model first, then
 * the same lines with the multilingual-e5-small embedding beside the n-grams, and the cascade between the two
 * (models/cascade.ts). The fused graph holds both heads. --encoder off trains the n-gram model alone.
 */
import * as path from 'node:path';
import { loadFiles } from './data';
import { parseArgs } from './cli-args';
import { CORPUS, heldOutElsewhere as corpusHeldOut, type Task } from './corpus';
import { ARTIFACTS_DIR } from './registry';
import { saveArtifacts } from './onnx-export';
import { DEFAULT_CALIBRATE, DEFAULT_EMBEDDING_WEIGHT, DEFAULT_FEATURIZERS, DEFAULT_TRAIN_OPTIONS, trainTask } from './train-task';
import { buildCascade } from './cascade';
import { embedAll } from './encoder/embedding-cache';
import { SentenceEncoder } from './encoder/encoder';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  for (const key of Object.keys(args)) {
    if (!['data', 'task', 'out', 'seed', 'folds', 'encoder', 'encoder-weight'].includes(key)) throw new Error(`unknown option --${key}`);
  }
  const encoderMode = args.encoder ?? 'auto';
  if (!['auto', 'on', 'off'].includes(encoderMode)) throw new Error(`--encoder must be auto, on or off, got "${encoderMode}"`);
  const encoderWeight = args['encoder-weight'] !== undefined ? Number(args['encoder-weight']) : undefined;
  if (encoderWeight !== undefined && !(encoderWeight > 0)) throw new Error('--encoder-weight must be a positive number');
  const taskArg = args.task ?? (args.data ? 'intent' : 'all');
  if (!['intent', 'emotion', 'all'].includes(taskArg)) throw new Error(`--task must be intent, emotion or all, got "${taskArg}"`);
  if (args.data && taskArg === 'all') throw new Error('--data trains one task: add --task intent or --task emotion');
  const tasks: Task[] = taskArg === 'all' ? ['intent', 'emotion'] : [taskArg as Task];
  const outDir = path.resolve(args.out ?? ARTIFACTS_DIR);
  const folds = args.folds !== undefined ? Number(args.folds) : 5;
  if (!Number.isInteger(folds) || folds < 1) throw new Error('--folds must be a positive integer');
  const seed = Number(args.seed);
  if (args.seed !== undefined && !Number.isSafeInteger(seed)) throw new Error('--seed must be an integer');

  const encoder = encoderMode === 'off' ? undefined : await loadEncoder(encoderMode === 'on');
  const t0 = performance.now();
  for (const task of tasks) {
    // --data takes one file or several, comma-separated; the corpus also has held-out-only files and the dialogue
    // corpus's test turns to check against.
    const files = (args.data ? args.data.split(',') : CORPUS[task]).map((f) => path.resolve(f));
    const heldOutElsewhere = args.data ? [] : corpusHeldOut(task);
    const options = { ...DEFAULT_TRAIN_OPTIONS[task], ...(args.seed !== undefined ? { seed } : {}) };
    const data = { ...loadFiles(files), heldOutElsewhere };
    const config = {
      task,
      featurizer: DEFAULT_FEATURIZERS[task],
      options,
      folds,
      novelMaxSimilarity: 0.3,
      reportTest: true,
      calibrate: DEFAULT_CALIBRATE[task],
      log: (m: string) => console.log(m),
    };
    let model = trainTask(data, config);
    if (encoder) {
      const table = await embedAll(encoder, data.examples.map((e) => e.text), 'query', config.log);
      const ngram = model;
      const weight = encoderWeight ?? DEFAULT_EMBEDDING_WEIGHT[task];
      console.log(`[${task}] fused model: n-grams + ${encoder.id} embedding (weight ${weight})`);
      model = trainTask(data, { ...config, embedding: { encoder: encoder.id, dim: encoder.dim, weight, of: (t) => table.get(t)! } });
      const info = buildCascade(ngram, model);
      model = { ...model, cascade: { network: ngram.network, info }, trainSeconds: model.trainSeconds + ngram.trainSeconds };
      const v = info.validation;
      console.log(
        `[${task}] cascade: the n-gram head answers alone at confidence ≥ ${info.skipAbove} — ${pct(v.skipShare)} of the new-wording validation lines skip the encoder; ` +
          `accuracy n-grams ${pct(v.accuracy.ngram)} / cascade ${pct(v.accuracy.cascade)} / always encoding ${pct(v.accuracy.fused)}` +
          (info.test ? `; test (report only): skip ${pct(info.test.skipShare)}, ${pct(info.test.accuracy.ngram)} / ${pct(info.test.accuracy.cascade)} / ${pct(info.test.accuracy.fused)}` : ''),
      );
    }
    const saved = saveArtifacts(model, outDir);
    console.log(`[${task}] wrote ${path.relative(process.cwd(), saved.onnxPath)} (${(saved.bytes / 1e6).toFixed(2)} MB) and ${path.relative(process.cwd(), saved.metaPath)}`);
  }
  console.log(`total training time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await encoder?.release();
}

/** The sentence encoder, or undefined (auto) / an error (on) when it cannot load. */
async function loadEncoder(required: boolean): Promise<SentenceEncoder | undefined> {
  try {
    return await SentenceEncoder.load({ threads: 2 });
  } catch (e) {
    if (required) throw e;
    console.log(`[encoder] not available (${e instanceof Error ? e.message : String(e)}): training n-gram models only`);
    return undefined;
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
