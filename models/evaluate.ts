/**
 * Evaluate the exported ONNX classifiers on the held-out test split.
 *
 *   tsx models/evaluate.ts [--artifacts models/artifacts] [--data file.jsonl --task intent|emotion] [--out eval.json]
 *
 * Default: intent on models/corpus/intent.jsonl and emotion on models/corpus/emotion.jsonl (lines with
 * "split": "test"; a file without any "split" uses the same seeded 10% hold-out as training). Inference goes
 * through OnnxClassifier (onnxruntime-node), i.e. exactly what serving runs. Prints a report and writes
 * `<artifacts>/eval.json`.
 *
 * Latency: for every intent test message, after a warm-up, time (performance.now) featurize + intent ONNX
 * + emotion ONNX for that single message, then report p50/p99.
 */
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { OnnxClassifier } from './classifier';
import { type Example, loadJsonl, OOS_LABEL, trainTestSplit } from './data';
import { classificationReport, oosReport, percentile, type ClassificationReport, type OosReport } from './metrics';
import { parseArgs } from './cli-args';
import { CORPUS, type Task } from './corpus';
import { ARTIFACTS_DIR } from './registry';
import { DEFAULT_TRAIN_OPTIONS } from './train-task';

interface TaskEval {
  task: Task;
  data: string;
  report: ClassificationReport;
  oos?: OosReport;
}

function testSplit(file: string, task: Task): Example[] {
  // Same seed as training, so a file without "split" gets the same hold-out.
  return trainTestSplit(loadJsonl(file), DEFAULT_TRAIN_OPTIONS[task].seed).test;
}

async function evalTask(clf: OnnxClassifier, task: Task, file: string): Promise<TaskEval> {
  const test = testSplit(file, task);
  if (test.length === 0) throw new Error(`${file}: no test examples`);
  const preds = await clf.predictBatch(test.map((e) => e.text));
  const gold = test.map((e) => e.label);
  const pred = preds.map((p) => p.label);
  const report = classificationReport(clf.labels, gold, pred, 15);
  const out: TaskEval = { task, data: path.relative(process.cwd(), file), report };
  if (clf.threshold !== undefined && clf.labels.includes(OOS_LABEL)) out.oos = oosReport(gold, pred, clf.threshold);
  return out;
}

const pct = (x: number): string => (Number.isNaN(x) ? '  n/a' : `${(100 * x).toFixed(1).padStart(5)}%`);

function printTask(e: TaskEval): void {
  const r = e.report;
  console.log(`\n=== ${e.task} (${e.data}, ${r.n} test examples) ===`);
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
  const files: Partial<Record<Task, string>> = args.data
    ? { [(args.task ?? 'intent') as Task]: path.resolve(args.data) }
    : { intent: CORPUS.intent[0], emotion: CORPUS.emotion[0] }; // the test split lives in the main files

  // Load the models the evaluation needs; the latency figure uses intent + emotion when both exist.
  const tryLoad = async (task: Task, required: boolean): Promise<OnnxClassifier | undefined> => {
    if (required) return OnnxClassifier.load(dir, task);
    if (!existsSync(path.join(dir, `${task}.json`))) return undefined;
    return OnnxClassifier.load(dir, task);
  };
  const intent = await tryLoad('intent', files.intent !== undefined);
  const emotion = await tryLoad('emotion', files.emotion !== undefined);
  const results: TaskEval[] = [];
  if (files.intent && intent) results.push(await evalTask(intent, 'intent', files.intent));
  if (files.emotion && emotion) results.push(await evalTask(emotion, 'emotion', files.emotion));
  for (const r of results) printTask(r);

  const latencyFile = files.intent ?? files.emotion!;
  const latencyTexts = testSplit(latencyFile, files.intent ? 'intent' : 'emotion').map((e) => e.text);
  const timed = [intent, emotion].filter((c): c is OnnxClassifier => c !== undefined);
  const latency = await measureLatency(timed, latencyTexts);
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
    results: Object.fromEntries(results.map((r) => [r.task, { data: r.data, n: r.report.n, accuracy: r.report.accuracy, macroF1: r.report.macroF1, oos: r.oos, perClass: r.report.perClass, topConfusions: r.report.topConfusions }])),
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
