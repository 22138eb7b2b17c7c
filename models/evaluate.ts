/**
 * Evaluate exported ONNX classifiers on held-out lines.
 *
 *   tsx models/evaluate.ts [--artifacts models/artifacts] [--data a.jsonl[,b.jsonl] --task intent|emotion] [--out eval.json]
 *
 * Without --data each model is scored on the files it was trained on, as recorded in its metadata (for the
 * committed models: the corpus). The held-out lines are rebuilt exactly as the trainer made them: the
 * "split": "test" lines, or, for data without any "split", the seeded hold-out made with the seed and fraction
 * recorded in the metadata. --data takes the same comma-separated list as `train --data` (intent unless
 * --task emotion). Inference goes through OnnxClassifier (onnxruntime-node), i.e. exactly what serving runs.
 * Prints a report, with warnings about labels the model learnt from too few lines or never saw, and writes
 * `<artifacts>/eval.json`.
 *
 * Latency: for every intent test message, after a warm-up, time (performance.now) featurize + intent ONNX
 * + emotion ONNX for that single message, then report p50/p99.
 */
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { OnnxClassifier } from './classifier';
import { type Example, HOLD_OUT_FRACTION, labelWarnings, loadFiles, MIN_TRAIN_PER_LABEL, OOS_LABEL, resolveRecordedPath, trainTestSplit } from './data';
import { classificationReport, oosReport, percentile, type ClassificationReport, type OosReport } from './metrics';
import type { ModelMetadata } from './model-format';
import { parseArgs } from './cli-args';
import type { Task } from './corpus';
import { ARTIFACTS_DIR } from './registry';

interface EvaluationSet {
  /** The files read, relative to the working directory. */
  files: string[];
  test: Example[];
  warnings: string[];
}

/**
 * The held-out lines of `dataFiles` (default: the files the model was trained on) for a model, split with the
 * seed and hold-out fraction recorded in its metadata, so a seeded hold-out is the very one the trainer made.
 */
export function evaluationSet(meta: ModelMetadata, dataFiles?: readonly string[]): EvaluationSet {
  // Metadata written before the data files, fraction and counts were recorded lacks them.
  const recorded = meta.training.data.files ?? [];
  const files = dataFiles ? dataFiles.map((f) => path.resolve(f)) : recorded.map((f) => resolveRecordedPath(f.path));
  if (files.length === 0) throw new Error(`the ${meta.task} model's metadata records no data files: pass --data`);
  const loaded = loadFiles(files);
  const shown = files.map((f) => path.relative(process.cwd(), f));
  const { test, splitSource } = trainTestSplit(loaded.examples, meta.training.options.seed, meta.training.data.holdOutFraction ?? HOLD_OUT_FRACTION);
  if (test.length === 0) throw new Error(`${shown.join(',')}: no held-out lines to evaluate`);
  const warnings: string[] = [];
  const sameData = loaded.files.length === recorded.length && loaded.files.every((f, i) => f.sha256 === recorded[i].sha256);
  if (splitSource === 'seeded' && !sameData) {
    warnings.push(
      `the hold-out is rebuilt with the model's seed, but ${shown.join(',')} ${recorded.length ? 'differ from the files it was trained on' : 'cannot be compared with its training data'}: ` +
        'the rebuilt hold-out may contain training lines and overstate accuracy; evaluate on the training files or on lines marked "split": "test"',
    );
  }
  // Without recorded counts (older metadata) only labels the model never saw can be warned about.
  const trainCounts = meta.training.data.trainCounts ?? Object.fromEntries(meta.labels.map((l) => [l, MIN_TRAIN_PER_LABEL]));
  warnings.push(...labelWarnings(trainCounts, test));
  return { files: shown, test, warnings };
}

interface TaskEval {
  task: Task;
  data: string;
  report: ClassificationReport;
  oos?: OosReport;
  warnings: string[];
  texts: string[];
}

async function evalTask(clf: OnnxClassifier, task: Task, set: EvaluationSet): Promise<TaskEval> {
  const preds = await clf.predictBatch(set.test.map((e) => e.text));
  const gold = set.test.map((e) => e.label);
  const pred = preds.map((p) => p.label);
  const report = classificationReport(clf.labels, gold, pred, 15);
  const out: TaskEval = { task, data: set.files.join(','), report, warnings: set.warnings, texts: set.test.map((e) => e.text) };
  if (clf.threshold !== undefined && clf.labels.includes(OOS_LABEL)) out.oos = oosReport(gold, pred, clf.threshold);
  return out;
}

const pct = (x: number): string => (Number.isNaN(x) ? '  n/a' : `${(100 * x).toFixed(1).padStart(5)}%`);

function printTask(e: TaskEval): void {
  const r = e.report;
  console.log(`\n=== ${e.task} (${e.data}, ${r.n} test examples) ===`);
  for (const w of e.warnings) console.log(`warning: ${w}`);
  console.log(`accuracy ${pct(r.accuracy)}   macro-F1 ${pct(r.macroF1)}`);
  if (e.oos) {
    console.log(
      `oos threshold ${e.oos.threshold.toFixed(2)}: oos recall ${pct(e.oos.oosRecall)} (${e.oos.oosSupport} oos), ` +
        `in-scope false rejection ${pct(e.oos.inScopeFalseRejectionRate)}, in-scope accuracy ${pct(e.oos.inScopeAccuracy)} (${e.oos.inScopeSupport} in-scope)`,
    );
  }
  const w = Math.max(...r.perClass.map((c) => c.label.length), 5);
  console.log(`\n${'label'.padEnd(w)}  precision  recall      F1  support`);
  for (const c of [...r.perClass].sort((a, b) => a.label.localeCompare(b.label))) {
    console.log(`${c.label.padEnd(w)}     ${pct(c.precision)}  ${pct(c.recall)}  ${pct(c.f1)}  ${String(c.support).padStart(7)}`);
  }
  if (r.topConfusions.length > 0) {
    console.log('\ntop confusions (gold → predicted):');
    for (const p of r.topConfusions) console.log(`  ${String(p.count).padStart(3)}  ${p.gold} → ${p.predicted}`);
  }
}

async function measureLatency(classifiers: readonly OnnxClassifier[], texts: readonly string[]): Promise<{ n: number; p50: number; p99: number; mean: number; max: number }> {
  const once = async (t: string): Promise<void> => {
    for (const c of classifiers) await c.predict(t);
  };
  for (let i = 0; i < 200; i++) await once(texts[i % texts.length]); // warm-up (JIT, onnxruntime arenas)
  const ms: number[] = [];
  for (const t of texts) {
    const t0 = performance.now();
    await once(t);
    ms.push(performance.now() - t0);
  }
  return { n: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), mean: ms.reduce((a, b) => a + b, 0) / ms.length, max: Math.max(...ms) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  for (const key of Object.keys(args)) {
    if (!['artifacts', 'data', 'task', 'out'].includes(key)) throw new Error(`unknown option --${key}`);
  }
  const dir = path.resolve(args.artifacts ?? ARTIFACTS_DIR);
  if (args.task && !['intent', 'emotion'].includes(args.task)) throw new Error('--task must be intent or emotion');
  // --data is for one task (intent unless --task says otherwise); without --data, --task picks one model.
  const tasks: Task[] = args.task ? [args.task as Task] : args.data ? ['intent'] : ['intent', 'emotion'];
  const dataFiles = args.data?.split(',');

  // Load the models the evaluation needs; the latency figure uses intent + emotion when both exist.
  const tryLoad = async (task: Task): Promise<OnnxClassifier | undefined> => {
    if (!tasks.includes(task) && !existsSync(path.join(dir, `${task}.json`))) return undefined;
    return OnnxClassifier.load(dir, task);
  };
  const intent = await tryLoad('intent');
  const emotion = await tryLoad('emotion');
  const results: TaskEval[] = [];
  for (const [task, clf] of [['intent', intent], ['emotion', emotion]] as const) {
    if (!clf || !tasks.includes(task)) continue;
    results.push(await evalTask(clf, task, evaluationSet(clf.metadata, dataFiles)));
  }
  for (const r of results) printTask(r);

  const timed = [intent, emotion].filter((c): c is OnnxClassifier => c !== undefined);
  const latency = await measureLatency(timed, results[0].texts);
  console.log(
    `\n=== latency: featurize + ${timed.map((c) => c.task).join(' + ')} (ONNX, one message at a time, ${latency.n} messages after warm-up) ===\n` +
      `p50 ${latency.p50.toFixed(3)} ms   p99 ${latency.p99.toFixed(3)} ms   mean ${latency.mean.toFixed(3)} ms   max ${latency.max.toFixed(3)} ms`,
  );

  const trainSeconds = Object.fromEntries(timed.map((c) => [c.task, c.metadata.training.seconds]));
  console.log(`\ntraining time recorded in metadata: ${Object.entries(trainSeconds).map(([t, s]) => `${t} ${s} s`).join(', ')}`);
  const outFile = path.resolve(args.out ?? path.join(dir, 'eval.json'));
  const summary = {
    createdAt: new Date().toISOString(),
    artifacts: path.relative(process.cwd(), dir),
    models: Object.fromEntries(
      timed.map((c) => [c.task, { sha256: c.metadata.onnx.sha256, bytes: c.metadata.onnx.bytes, threshold: c.threshold ?? null, labels: c.labels.length }]),
    ),
    results: Object.fromEntries(results.map((r) => [r.task, { data: r.data, warnings: r.warnings, n: r.report.n, accuracy: r.report.accuracy, macroF1: r.report.macroF1, oos: r.oos, perClass: r.report.perClass, topConfusions: r.report.topConfusions }])),
    latencyMs: { ...latency, measures: `featurize + ${timed.map((c) => c.task).join(' + ')} ONNX inference, single message, after 200 warm-up calls` },
    trainSeconds,
  };
  writeFileSync(outFile, JSON.stringify(summary, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), outFile)}`);
  for (const c of timed) await c.release();
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
