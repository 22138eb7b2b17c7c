/**
 * Train the intent and emotion classifiers and write the ONNX graphs + metadata.
 *
 *   tsx models/train.ts [--data file.jsonl[,more.jsonl]] [--task intent|emotion|all] [--out models/artifacts] [--seed N] [--folds 5]
 *
 * Without --data it trains both tasks from models/corpus (see models/corpus.ts). --data trains one task
 * (--task intent or emotion, default intent) from any JSONL of {"text","label","split"?}; when no line has a
 * "split", a seeded, stratified 10% is held out as test. See models/train-task.ts for what training does.
 */
import * as path from 'node:path';
import { loadFiles } from './data';
import { parseArgs } from './cli-args';
import { CORPUS, heldOutElsewhere as corpusHeldOut, type Task } from './corpus';
import { ARTIFACTS_DIR } from './registry';
import { saveArtifacts } from './onnx-export';
import { DEFAULT_CALIBRATE, DEFAULT_FEATURIZERS, DEFAULT_TRAIN_OPTIONS, trainTask } from './train-task';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  for (const key of Object.keys(args)) {
    if (!['data', 'task', 'out', 'seed', 'folds'].includes(key)) throw new Error(`unknown option --${key}`);
  }
  const taskArg = args.task ?? (args.data ? 'intent' : 'all');
  if (!['intent', 'emotion', 'all'].includes(taskArg)) throw new Error(`--task must be intent, emotion or all, got "${taskArg}"`);
  if (args.data && taskArg === 'all') throw new Error('--data trains one task: add --task intent or --task emotion');
  const tasks: Task[] = taskArg === 'all' ? ['intent', 'emotion'] : [taskArg as Task];
  const outDir = path.resolve(args.out ?? ARTIFACTS_DIR);
  const folds = args.folds !== undefined ? Number(args.folds) : 5;
  if (!Number.isInteger(folds) || folds < 1) throw new Error('--folds must be a positive integer');
  const seed = Number(args.seed);
  if (args.seed !== undefined && !Number.isSafeInteger(seed)) throw new Error('--seed must be an integer');

  const t0 = performance.now();
  for (const task of tasks) {
    // --data takes one file or several, comma-separated; the corpus also has held-out-only files and the dialogue
    // corpus's test turns to check against.
    const files = (args.data ? args.data.split(',') : CORPUS[task]).map((f) => path.resolve(f));
    const heldOutElsewhere = args.data ? [] : corpusHeldOut(task);
    const options = { ...DEFAULT_TRAIN_OPTIONS[task], ...(args.seed !== undefined ? { seed } : {}) };
    const model = trainTask({ ...loadFiles(files), heldOutElsewhere }, {
      task,
      featurizer: DEFAULT_FEATURIZERS[task],
      options,
      folds,
      novelMaxSimilarity: 0.3,
      reportTest: true,
      calibrate: DEFAULT_CALIBRATE[task],
      log: (m) => console.log(m),
    });
    const saved = saveArtifacts(model, outDir);
    console.log(`[${task}] wrote ${path.relative(process.cwd(), saved.onnxPath)} (${(saved.bytes / 1e6).toFixed(2)} MB) and ${path.relative(process.cwd(), saved.metaPath)}`);
  }
  console.log(`total training time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
