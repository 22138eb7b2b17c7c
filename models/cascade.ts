/**
 * The cascade of a fused model: the n-gram-only head answers alone when it is confident enough, otherwise the
 * message is encoded and the fused head (n-grams + sentence embedding) answers. The encoder costs ~15 ms per
 * message against under a millisecond for the n-grams, so every message the first stage settles is a saving.
 *
 * `skipAbove` is chosen on train only: on the out-of-fold predictions of both heads (the same grouped folds),
 * the smallest confidence whose cascade accuracy stays within `CASCADE_TOLERANCE` of always encoding, measured
 * on the new-wording validation lines (the ones the encoder helps with; on paraphrases both heads are right).
 */
import { applyTemperature, type CalibrationInfo } from './calibration';
import { decide } from './decision';
import type { OnnxClassifier, Prediction } from './classifier';
import type { Embedder } from './encoder/encoder';
import { NEGATIVE_EMOTIONS } from './metrics';

/**
 * Accuracy the cascade may give up against always encoding, on the validation lines it is chosen on. With 0.2
 * point the emotion head had to be ≥ 0.96 sure, which it is for only a quarter of ordinary questions (the intent
 * corpus's train lines), so nearly every message was encoded; with 0.5 point the trainer chose 0.62 for emotion and
 * 0.74 for intent (out of fold, new wording: emotion 91.6 % and intent 91.3 %, against 92.1 % and 91.8 % for always
 * encoding).
 */
export const CASCADE_TOLERANCE = 0.005;

export interface Head {
  threshold: number | undefined;
  temperature: number;
}

export interface CascadeFigures {
  lines: number;
  /** Share of lines the n-gram head settles (the encoder is skipped). */
  skipShare: number;
  accuracy: { ngram: number; fused: number; cascade: number };
}

export interface CascadeInfo {
  skipAbove: number;
  /** The n-gram head's own decision settings, as the top-level ones are the fused head's. */
  ngram: { threshold: number | null; calibration?: CalibrationInfo };
  chosenOn: string;
  validation: CascadeFigures;
  test?: CascadeFigures;
}

/** Label index and confidence of one head, exactly as serving decides (classifier.ts `toPrediction`). */
export function headDecision(raw: ArrayLike<number>, labels: readonly string[], head: Head): { index: number; confidence: number } {
  const probs = head.temperature === 1 ? raw : applyTemperature(raw, head.temperature);
  const index = decide(probs, labels, head.threshold);
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
  return { index, confidence: index === best ? probs[index] : 1 - probs[best] };
}

/** Cascade figures at `skipAbove` for paired raw probabilities of both heads. */
export function cascadeFigures(
  ngram: readonly ArrayLike<number>[],
  fused: readonly ArrayLike<number>[],
  gold: readonly string[],
  labels: readonly string[],
  heads: { ngram: Head; fused: Head },
  skipAbove: number,
): CascadeFigures {
  let skipped = 0;
  const right = { ngram: 0, fused: 0, cascade: 0 };
  gold.forEach((g, i) => {
    const n = headDecision(ngram[i], labels, heads.ngram);
    const f = headDecision(fused[i], labels, heads.fused);
    const skip = n.confidence >= skipAbove;
    if (skip) skipped++;
    if (labels[n.index] === g) right.ngram++;
    if (labels[f.index] === g) right.fused++;
    if (labels[(skip ? n : f).index] === g) right.cascade++;
  });
  const n = Math.max(1, gold.length);
  return { lines: gold.length, skipShare: skipped / n, accuracy: { ngram: right.ngram / n, fused: right.fused / n, cascade: right.cascade / n } };
}

/** The smallest confidence (0.50 … 0.99, or 1.01 = always encode) keeping the cascade within tolerance. */
export function chooseSkipAbove(
  ngram: readonly ArrayLike<number>[],
  fused: readonly ArrayLike<number>[],
  gold: readonly string[],
  labels: readonly string[],
  heads: { ngram: Head; fused: Head },
): { skipAbove: number; figures: CascadeFigures } {
  for (let c = 50; c <= 99; c++) {
    const figures = cascadeFigures(ngram, fused, gold, labels, heads, c / 100);
    if (figures.accuracy.cascade >= figures.accuracy.fused - CASCADE_TOLERANCE) return { skipAbove: c / 100, figures };
  }
  return { skipAbove: 1.01, figures: cascadeFigures(ngram, fused, gold, labels, heads, 1.01) };
}

/** What a fused model and the n-gram model trained on the same lines and folds give the cascade. */
interface HeadModel {
  labels: string[];
  threshold?: number;
  calibration?: CalibrationInfo;
  oofProbs: (Float64Array | undefined)[];
  oofNovel: boolean[];
  testProbs?: Float64Array[];
  lines: { train: Array<{ label: string }>; test: Array<{ label: string }> };
}

const headOf = (m: HeadModel): Head => ({ threshold: m.threshold, temperature: m.calibration?.temperature ?? 1 });

/** Choose the cascade of `fused` with `ngram` as its first stage (train only) and report it on test. */
export function buildCascade(ngram: HeadModel, fused: HeadModel): CascadeInfo {
  if (ngram.labels.join('\n') !== fused.labels.join('\n') || ngram.lines.train.length !== fused.lines.train.length) {
    throw new Error('the n-gram and fused models were not trained on the same lines');
  }
  const heads = { ngram: headOf(ngram), fused: headOf(fused) };
  const idx = fused.oofNovel.flatMap((novel, i) => (novel && ngram.oofProbs[i] && fused.oofProbs[i] ? [i] : []));
  const choice = chooseSkipAbove(
    idx.map((i) => ngram.oofProbs[i]!),
    idx.map((i) => fused.oofProbs[i]!),
    idx.map((i) => fused.lines.train[i].label),
    fused.labels,
    heads,
  );
  const test =
    ngram.testProbs && fused.testProbs
      ? cascadeFigures(ngram.testProbs, fused.testProbs, fused.lines.test.map((e) => e.label), fused.labels, heads, choice.skipAbove)
      : undefined;
  return {
    skipAbove: choice.skipAbove,
    ngram: { threshold: ngram.threshold ?? null, ...(ngram.calibration ? { calibration: ngram.calibration } : {}) },
    chosenOn: `out-of-fold predictions of both heads on the ${idx.length} new-wording validation lines (train only); tolerance ${CASCADE_TOLERANCE * 100} point`,
    validation: choice.figures,
    ...(test ? { test } : {}),
  };
}

/**
 * The intent reading of an encoded message: the fused head, unless the two heads pick different labels — then
 * their average. A short vague message ("账号有问题", "视频有问题") is where they disagree: the n-gram head spreads
 * its probability, while the fused head, whose training lines are all about one topic each, is sure of the nearest
 * topic (fused 0.62 for 申诉 where the n-gram head said 0.24). The average keeps that uncertainty, so the chart asks
 * which topic is meant instead of guessing. On the labelled held-out sets it changes little (README, "Sentence
 * encoder"): the heads disagree on 7 of 588 test lines.
 */
export function blendOnDisagreement(
  clf: { labels: readonly string[]; toPrediction(probs: ArrayLike<number>): Prediction },
  ngram: Prediction,
  fused: Prediction,
): Prediction {
  if (ngram.label === fused.label) return fused;
  const a = new Map(ngram.scores.map((s) => [s.label, s.score]));
  const b = new Map(fused.scores.map((s) => [s.label, s.score]));
  return clf.toPrediction(clf.labels.map((l) => ((a.get(l) ?? 0) + (b.get(l) ?? 0)) / 2));
}

/**
 * Whether a message is encoded, from the n-gram heads' readings of both models: when the intent head is unsure, or
 * the emotion head is unsure of a negative reading. Negative readings are what the chart acts on (apology,
 * compensation, a person); an unsure positive or neutral reading, left as it is, changes nothing it does. On the
 * intent test split this encodes 28 % of messages instead of 42 % for "either head unsure", with the same emotion
 * accuracy and false alarms on the emotion test split and mixed set (97.0 % / 1.3 %, 96.0 % / 6.2 %).
 */
export function needsEncoding(
  intent: { model: { settles(p: Prediction): boolean }; reading: Prediction },
  emotion: { model: { settles(p: Prediction): boolean }; reading: Prediction },
): boolean {
  return !intent.model.settles(intent.reading) || (!emotion.model.settles(emotion.reading) && NEGATIVE_EMOTIONS.includes(emotion.reading.label));
}

/**
 * How workers read a message (activities/understand.ts), and what eval:nlu times. Both models read it with their
 * n-gram heads (under a millisecond); only when the intent head is unsure, or the emotion head unsure of a negative
 * reading (`needsEncoding`), is it encoded (~15 ms, in the encoder's thread in workers) and read again with the fused
 * heads. The embedding then also serves retrieval; where the two intent heads disagree, their average is the
 * reading (`blendOnDisagreement`). An encoder of another build than a model was trained with is not used for that
 * model: its n-gram head answers, as when no encoder is loaded.
 */
export async function readWithCascade(text: string, intentModel: OnnxClassifier, emotionModel: OnnxClassifier, encoder: Embedder | undefined) {
  const [intent, emotion] = await Promise.all([intentModel.predict(text), emotionModel.predict(text)]);
  const fits = (m: OnnxClassifier) => !!encoder && m.encoderId === encoder.id;
  const needed = needsEncoding({ model: intentModel, reading: intent }, { model: emotionModel, reading: emotion });
  if (!encoder || !needed || !(fits(intentModel) || fits(emotionModel))) {
    return { intent, emotion, embedding: undefined };
  }
  let embedding: Float32Array;
  try {
    [embedding] = await encoder.embed([text], 'query');
  } catch (err) {
    // A failed encoding costs the message its second reading, not its answer.
    console.warn(`[understand] sentence encoder failed, reading with the n-gram heads: ${err instanceof Error ? err.message : String(err)}`);
    return { intent, emotion, embedding: undefined };
  }
  const [fusedIntent, fusedEmotion] = await Promise.all([
    fits(intentModel) ? intentModel.predict(text, embedding) : intent,
    fits(emotionModel) ? emotionModel.predict(text, embedding) : emotion,
  ]);
  return { intent: blendOnDisagreement(intentModel, intent, fusedIntent), emotion: fusedEmotion, embedding };
}
