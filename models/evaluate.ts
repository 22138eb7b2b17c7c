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
 * Emotion also gets a calibration report: a reliability table (10 confidence bins: count, mean confidence,
 * accuracy) and the expected calibration error (ECE) of the graph's own probabilities (before) and of the calibrated
 * ones serving returns (after, with the temperature in the metadata), and the false-alarm rate — the share of
 * positive and neutral lines read as anxious, angry or disappointed — at any confidence and for confident readings
 * only, with the share of negative lines still read as negative at the same confidence. Without --data the emotion
 * model is also scored on its held-out-only files (`HELD_OUT_ONLY.emotion` in corpus.ts: emotion-mixed-test.jsonl).
 *
 * Latency: for every intent test message, after a warm-up, time (performance.now) featurize + intent ONNX
 * + emotion ONNX for that single message, then report p50/p99.
 */
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { OnnxClassifier } from './classifier';
import { blendOnDisagreement, needsEncoding, readWithCascade } from './cascade';
import { type Example, HOLD_OUT_FRACTION, labelWarnings, loadFiles, MIN_TRAIN_PER_LABEL, OOS_LABEL, resolveRecordedPath, trainTestSplit } from './data';
import { classificationReport, falseAlarmReport, oosReport, percentile, type ClassificationReport, type FalseAlarmReport, type OosReport } from './metrics';
import { applyTemperature, reliabilityOf, type Reliability } from './calibration';
import type { ModelMetadata } from './model-format';
import { parseArgs } from './cli-args';
import { CORPUS, HELD_OUT_ONLY, type Task } from './corpus';
import { ARTIFACTS_DIR } from './registry';
import { embedAll } from './encoder/embedding-cache';
import { SentenceEncoder } from './encoder/encoder';

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

/** Confidence levels at which the emotion false-alarm rate is also reported ("a confident negative reading"). */
export const CONFIDENT_LEVELS = [0.5, 0.6, 0.7, 0.8, 0.9];

interface EmotionCalibration {
  temperature: number;
  /** The graph's probabilities (T = 1). */
  before: Reliability;
  /** The calibrated probabilities serving returns. */
  after: Reliability;
  /** Negative readings at any confidence, then at each of CONFIDENT_LEVELS (calibrated confidence). */
  falseAlarm: FalseAlarmReport;
  confident: FalseAlarmReport[];
}

/** A fused model's heads on the same lines: n-grams alone, always encoding, and the cascade serving uses. */
interface CascadeEval {
  skipAbove: number;
  skipShare: number;
  accuracy: { ngram: number; fused: number; cascade: number };
  macroF1: { ngram: number; fused: number; cascade: number };
  oosRecall?: { ngram: number; fused: number; cascade: number };
}

interface TaskEval {
  task: Task;
  data: string;
  /** What serving answers: for a fused model the cascade. */
  report: ClassificationReport;
  cascade?: CascadeEval;
  oos?: OosReport;
  emotion?: EmotionCalibration;
  warnings: string[];
  texts: string[];
}

/**
 * The calibration and false-alarm report of an emotion model on labelled lines: the raw graph probabilities and the
 * calibrated ones (the metadata's temperature). The prediction is the argmax (emotion has no threshold) and its
 * confidence the calibrated probability, as `OnnxClassifier.predict` returns them.
 */
export function emotionCalibration(
  labels: readonly string[],
  temperature: number,
  raw: readonly ArrayLike<number>[],
  gold: readonly string[],
  /** Per line, when lines were read by heads with different temperatures (a fused model's cascade). */
  temperatures?: readonly number[],
): EmotionCalibration {
  const calibrated = raw.map((p, i) => applyTemperature(p, temperatures?.[i] ?? temperature));
  // A gold label the model never saw cannot be right: index -1 never equals the argmax.
  const goldIdx = gold.map((g) => labels.indexOf(g));
  const top = calibrated.map((p) => {
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
    return { label: labels[best], confidence: p[best] };
  });
  const pred = top.map((t) => t.label);
  const conf = top.map((t) => t.confidence);
  return {
    temperature,
    before: reliabilityOf(raw, goldIdx),
    after: reliabilityOf(calibrated, goldIdx),
    falseAlarm: falseAlarmReport(gold, pred, conf),
    confident: CONFIDENT_LEVELS.map((t) => falseAlarmReport(gold, pred, conf, t)),
  };
}

async function evalTask(
  clf: OnnxClassifier,
  task: Task,
  set: EvaluationSet,
  embeddings?: Map<string, Float32Array>,
  /** The other task's model: whether serving encodes a message depends on both n-gram readings (`needsEncoding`). */
  other?: OnnxClassifier,
): Promise<TaskEval> {
  const texts = set.test.map((e) => e.text);
  const gold = set.test.map((e) => e.label);
  const ngramRaw = await clf.rawProbabilities(texts);
  const ngramPreds = await clf.predictBatch(texts);
  let raw = ngramRaw;
  let preds = ngramPreds;
  let temperatures: number[] | undefined;
  let cascade: CascadeEval | undefined;
  if (clf.encoderId) {
    if (!embeddings) throw new Error(`the ${task} model is fused: evaluating it needs the sentence encoder`);
    const vectors = texts.map((t) => embeddings.get(t)!);
    const fusedRaw = await clf.rawProbabilities(texts, vectors);
    const fusedPreds = await clf.predictBatch(texts, vectors);
    const otherPreds = other ? await other.predictBatch(texts) : undefined;
    const settled = ngramPreds.map((p, i) => {
      if (!otherPreds || !other) return clf.settles(p);
      const mine = { model: clf, reading: p };
      const theirs = { model: other, reading: otherPreds[i] };
      return !(task === 'intent' ? needsEncoding(mine, theirs) : needsEncoding(theirs, mine));
    });
    raw = texts.map((_, i) => (settled[i] ? ngramRaw[i] : fusedRaw[i]));
    // As activities/understand.ts serves them: for intent, the heads' average where they disagree.
    const served = task === 'intent' ? fusedPreds.map((f, i) => blendOnDisagreement(clf, ngramPreds[i], f)) : fusedPreds;
    preds = texts.map((_, i) => (settled[i] ? ngramPreds[i] : served[i]));
    const ngramT = clf.metadata.cascade?.ngram.calibration?.temperature ?? 1;
    temperatures = settled.map((s) => (s ? ngramT : clf.temperature));
    const heads = { ngram: ngramPreds, fused: fusedPreds, cascade: preds };
    const of = <T>(f: (p: string[]) => T) => ({ ngram: f(heads.ngram.map((p) => p.label)), fused: f(heads.fused.map((p) => p.label)), cascade: f(heads.cascade.map((p) => p.label)) });
    const hasOos = clf.labels.includes(OOS_LABEL) && gold.includes(OOS_LABEL);
    cascade = {
      skipAbove: clf.metadata.cascade?.skipAbove ?? Infinity,
      skipShare: settled.filter(Boolean).length / texts.length,
      accuracy: of((p) => classificationReport(clf.labels, gold, p).accuracy),
      macroF1: of((p) => classificationReport(clf.labels, gold, p).macroF1),
      ...(hasOos ? { oosRecall: of((p) => oosReport(gold, p, clf.threshold ?? 0).oosRecall) } : {}),
    };
  }
  const pred = preds.map((p) => p.label);
  const report = classificationReport(clf.labels, gold, pred, 15);
  const out: TaskEval = { task, data: set.files.join(','), report, ...(cascade ? { cascade } : {}), warnings: set.warnings, texts };
  if (clf.threshold !== undefined && clf.labels.includes(OOS_LABEL)) out.oos = oosReport(gold, pred, clf.threshold);
  if (task === 'emotion') out.emotion = emotionCalibration(clf.labels, clf.temperature, raw, gold, temperatures);
  return out;
}

const num = (x: number, digits = 3): string => (Number.isNaN(x) ? '    —' : x.toFixed(digits));

function printEmotion(e: EmotionCalibration): void {
  const { before, after } = e;
  console.log(`\nreliability (confidence = probability of the predicted label; before = graph output, after = temperature ${e.temperature}):`);
  console.log('confidence      before: lines  mean conf  accuracy     after: lines  mean conf  accuracy');
  before.bins.forEach((b, i) => {
    const a = after.bins[i];
    if (b.count === 0 && a.count === 0) return;
    console.log(
      `[${b.lo.toFixed(1)}, ${b.hi.toFixed(1)}${i === before.bins.length - 1 ? ']' : ')'}          ${String(b.count).padStart(5)}  ${num(b.meanConfidence).padStart(9)}  ${num(b.accuracy).padStart(8)}` +
        `            ${String(a.count).padStart(5)}  ${num(a.meanConfidence).padStart(9)}  ${num(a.accuracy).padStart(8)}`,
    );
  });
  console.log(`expected calibration error (ECE): before ${pct(before.ece)}   after ${pct(after.ece)}`);
  const fa = e.falseAlarm;
  console.log(
    `\nfalse alarms: positive/neutral lines read as anxious/angry/disappointed: ${pct(fa.rate)} (${fa.alarms}/${fa.support}; ` +
      fa.perLabel.map((p) => `${p.label} ${p.alarms}/${p.support}`).join(', ') +
      `); negative lines read as negative: ${pct(fa.negativeRecall)} (${fa.negativeSupport} lines)`,
  );
  console.log('confident negative readings only (calibrated confidence ≥ t):');
  console.log('   t   false alarm (pos/neu)   negative lines read negative');
  for (const c of e.confident) {
    console.log(`${c.minConfidence.toFixed(2)}   ${pct(c.rate)} (${String(c.alarms).padStart(3)}/${c.support})        ${pct(c.negativeRecall)}`);
  }
}

const pct = (x: number): string => (Number.isNaN(x) ? '  n/a' : `${(100 * x).toFixed(1).padStart(5)}%`);

function printTask(e: TaskEval): void {
  const r = e.report;
  console.log(`\n=== ${e.task} (${e.data}, ${r.n} test examples) ===`);
  for (const w of e.warnings) console.log(`warning: ${w}`);
  console.log(`accuracy ${pct(r.accuracy)}   macro-F1 ${pct(r.macroF1)}${e.cascade ? '   (as served: the cascade)' : ''}`);
  const c = e.cascade;
  if (c) {
    console.log(`fused model, cascade at n-gram confidence ≥ ${c.skipAbove} (both models' readings decide, as served): ${pct(c.skipShare)} of lines skip the encoder`);
    console.log(`                 n-grams alone   cascade   always encoding`);
    console.log(`accuracy         ${pct(c.accuracy.ngram)}        ${pct(c.accuracy.cascade)}    ${pct(c.accuracy.fused)}`);
    console.log(`macro-F1         ${pct(c.macroF1.ngram)}        ${pct(c.macroF1.cascade)}    ${pct(c.macroF1.fused)}`);
    if (c.oosRecall) console.log(`oos recall       ${pct(c.oosRecall.ngram)}        ${pct(c.oosRecall.cascade)}    ${pct(c.oosRecall.fused)}`);
  }
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
  if (e.emotion) printEmotion(e.emotion);
}

function resultJson(r: TaskEval): object {
  return {
    data: r.data,
    warnings: r.warnings,
    n: r.report.n,
    accuracy: r.report.accuracy,
    macroF1: r.report.macroF1,
    oos: r.oos,
    ...(r.cascade ? { cascade: r.cascade } : {}),
    ...(r.emotion ? { calibration: r.emotion } : {}),
    perClass: r.report.perClass,
    topConfusions: r.report.topConfusions,
  };
}

type Reading = 'ngram' | 'fused' | 'cascade';

/** One message through both models the way `reading` says (the cascade is `readWithCascade`, what workers do); true when it was encoded. */
async function readOnce(classifiers: readonly OnnxClassifier[], encoder: SentenceEncoder | undefined, reading: Reading, t: string): Promise<boolean> {
  const [intent, emotion] = (['intent', 'emotion'] as const).map((task) => classifiers.find((c) => c.task === task));
  if (reading === 'cascade' && intent && emotion) return (await readWithCascade(t, intent, emotion, encoder)).embedding !== undefined;
  let wanted = reading === 'fused';
  if (reading === 'cascade') {
    // One model only (an operator's own): encoded when its n-gram head does not settle the message.
    const first = [];
    for (const c of classifiers) first.push(await c.predict(t));
    wanted = !first.every((p, k) => classifiers[k].settles(p));
  }
  const encode = wanted && !!encoder && classifiers.some((c) => c.encoderId);
  const v = encode ? (await encoder!.embed([t], 'query'))[0] : undefined;
  for (const c of classifiers) await (v && c.encoderId ? c.predict(t, v) : c.predict(t));
  return encode;
}

async function measureLatency(
  classifiers: readonly OnnxClassifier[],
  texts: readonly string[],
  encoder?: SentenceEncoder,
  reading: Reading = 'cascade',
): Promise<{ n: number; p50: number; p99: number; mean: number; max: number; encodedShare: number }> {
  let encoded = 0;
  const once = async (t: string) => {
    if (await readOnce(classifiers, encoder, reading, t)) encoded++;
  };
  for (let i = 0; i < 200; i++) await once(texts[i % texts.length]); // warm-up (JIT, onnxruntime arenas)
  encoded = 0;
  const ms: number[] = [];
  for (const t of texts) {
    const t0 = performance.now();
    await once(t);
    ms.push(performance.now() - t0);
  }
  return { n: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), mean: ms.reduce((a, b) => a + b, 0) / ms.length, max: Math.max(...ms), encodedShare: encoded / texts.length };
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
    // A folder of an operator's own models may hold one task only: without --task, a missing one is skipped.
    const present = existsSync(path.join(dir, `${task}.json`));
    if (!present && (!tasks.includes(task) || !args.task)) return undefined;
    return OnnxClassifier.load(dir, task);
  };
  const intent = await tryLoad('intent');
  const emotion = await tryLoad('emotion');
  // A fused model needs the embedding of every line (cached on disk by embedAll).
  const encoder = [intent, emotion].some((c) => c?.encoderId) ? await SentenceEncoder.load({ threads: 1 }) : undefined;
  const embeddingsOf = async (set: EvaluationSet) => (encoder ? embedAll(encoder, set.test.map((e) => e.text), 'query') : undefined);
  const results: TaskEval[] = [];
  // Without --data the emotion model is also scored on its held-out-only files (each all "split": "test").
  const heldOutSets: TaskEval[] = [];
  for (const [task, clf] of [['intent', intent], ['emotion', emotion]] as const) {
    if (!clf || !tasks.includes(task)) continue;
    const set = evaluationSet(clf.metadata, dataFiles);
    const other = task === 'intent' ? emotion : intent;
    results.push(await evalTask(clf, task, set, await embeddingsOf(set), other));
    // The corpus's held-out-only files score models trained on the corpus, not an operator's own.
    const onCorpus = clf.metadata.training.data.files.map((f) => resolveRecordedPath(f.path)).join('\n') === CORPUS[task].join('\n');
    if (!dataFiles && onCorpus) {
      for (const file of HELD_OUT_ONLY[task]) {
        const extra = evaluationSet(clf.metadata, [file]);
        heldOutSets.push(await evalTask(clf, task, extra, await embeddingsOf(extra), other));
      }
    }
  }
  for (const r of [...results, ...heldOutSets]) printTask(r);

  const timed = [intent, emotion].filter((c): c is OnnxClassifier => c !== undefined);
  const readings: Reading[] = encoder ? ['ngram', 'cascade', 'fused'] : ['ngram'];
  const latencies = {} as Record<Reading, Awaited<ReturnType<typeof measureLatency>>>;
  for (const reading of readings) latencies[reading] = await measureLatency(timed, results[0].texts, encoder, reading);
  const latency = latencies[encoder ? 'cascade' : 'ngram'];
  const how: Record<Reading, string> = { ngram: 'n-gram heads only', cascade: 'as served: the cascade (encoder only when a head is unsure)', fused: 'always encoding' };
  console.log(`\n=== latency: featurize + ${timed.map((c) => c.task).join(' + ')} (ONNX, one message at a time, ${latency.n} messages after warm-up) ===`);
  for (const reading of readings) {
    const l = latencies[reading];
    console.log(`${how[reading].padEnd(58)} p50 ${l.p50.toFixed(3)} ms   p99 ${l.p99.toFixed(3)} ms   mean ${l.mean.toFixed(3)} ms   max ${l.max.toFixed(3)} ms   encoded ${pct(l.encodedShare)}`);
  }

  const trainSeconds = Object.fromEntries(timed.map((c) => [c.task, c.metadata.training.seconds]));
  console.log(`\ntraining time recorded in metadata: ${Object.entries(trainSeconds).map(([t, s]) => `${t} ${s} s`).join(', ')}`);
  const outFile = path.resolve(args.out ?? path.join(dir, 'eval.json'));
  const summary = {
    createdAt: new Date().toISOString(),
    artifacts: path.relative(process.cwd(), dir),
    models: Object.fromEntries(
      timed.map((c) => [c.task, { sha256: c.metadata.onnx.sha256, bytes: c.metadata.onnx.bytes, threshold: c.threshold ?? null, labels: c.labels.length }]),
    ),
    results: Object.fromEntries(results.map((r) => [r.task, resultJson(r)])),
    ...(heldOutSets.length > 0 ? { heldOutSets: heldOutSets.map((r) => ({ task: r.task, ...resultJson(r) })) } : {}),
    latencyMs: { ...latency, measures: `featurize + ${timed.map((c) => c.task).join(' + ')} ONNX inference${encoder ? ' + the sentence encoder when the cascade needs it' : ''}, single message, after 200 warm-up calls` },
    ...(encoder ? { latencyByReading: latencies, encoder: encoder.id } : {}),
    trainSeconds,
  };
  writeFileSync(outFile, JSON.stringify(summary, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), outFile)}`);
  for (const c of timed) await c.release();
  await encoder?.release();
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
