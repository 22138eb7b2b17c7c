/**
 * Probability calibration: temperature scaling and the reliability table / expected calibration error (ECE).
 *
 * A model's softmax probability is "calibrated" when, of the messages read with confidence ≈ 0.8, about 80 % are
 * read right. Temperature scaling divides the logits by one number T before the softmax: T > 1 softens the
 * probabilities (less confident), T < 1 sharpens them, T = 1 leaves them as they are. It never changes which label
 * is the most probable, so accuracy is untouched. Since the graph outputs softmax probabilities p, the logits are
 * log p up to a constant per row, and softmax(log p / T) is the calibrated distribution: the ONNX graph stays as it
 * is and serving (classifier.ts) applies T in TypeScript.
 *
 * T is fitted by the trainer on out-of-fold probabilities of the TRAIN split (train-task.ts), by minimising the
 * mean negative log-likelihood of the gold labels. This file is loaded by serving: it imports nothing of training.
 */

/** How a model's probabilities are calibrated, as stored in the metadata (`calibration`). */
export interface CalibrationInfo {
  method: 'temperature';
  /** Divide the logits by this before the softmax (1 = unchanged). */
  temperature: number;
  /** What T was fitted on, in words. */
  fittedOn: string;
  /** Lines T was fitted on. */
  n: number;
  /** Mean negative log-likelihood of the gold label on those lines, before (T = 1) and after. */
  nll: { before: number; after: number };
  /** Expected calibration error (10 equal-width confidence bins) on those lines, before and after. */
  ece: { before: number; after: number };
}

/**
 * Probabilities with temperature T applied: softmax(log p / T). Rows sum to 1 and the argmax is unchanged.
 * A probability of 0 stays 0. T = 1 returns an unchanged copy.
 */
export function applyTemperature(probs: ArrayLike<number>, temperature: number): Float64Array {
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`temperature must be a positive finite number, got ${temperature}`);
  const out = Float64Array.from(probs as ArrayLike<number>);
  if (temperature === 1) return out;
  let max = -Infinity;
  for (let i = 0; i < out.length; i++) {
    out[i] = out[i] > 0 ? Math.log(out[i]) / temperature : -Infinity;
    if (out[i] > max) max = out[i];
  }
  if (max === -Infinity) throw new Error('applyTemperature: every probability is 0');
  let sum = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.exp(out[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Mean negative log-likelihood of the gold labels under temperature T (probabilities floored at 1e-12). */
export function meanNll(probs: readonly ArrayLike<number>[], gold: readonly number[], temperature = 1): number {
  if (probs.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < probs.length; i++) s -= Math.log(Math.max(1e-12, applyTemperature(probs[i], temperature)[gold[i]]));
  return s / probs.length;
}

/**
 * The temperature that minimises the mean NLL of the gold labels. The NLL is convex in 1/T, so a golden-section
 * search over 1/T in [1/20, 20] (T from 0.05 to 20) finds the minimum; T is rounded to 4 decimals.
 */
export function fitTemperature(probs: readonly ArrayLike<number>[], gold: readonly number[]): { temperature: number; nllBefore: number; nllAfter: number } {
  if (probs.length === 0) throw new Error('fitTemperature: no lines');
  if (probs.length !== gold.length) throw new Error('fitTemperature: probs/gold length mismatch');
  const f = (beta: number) => meanNll(probs, gold, 1 / beta);
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = 1 / 20;
  let b = 20;
  let c = b - phi * (b - a);
  let d = a + phi * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let it = 0; it < 80 && b - a > 1e-6; it++) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - phi * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + phi * (b - a);
      fd = f(d);
    }
  }
  const temperature = Math.round((1 / ((a + b) / 2)) * 1e4) / 1e4;
  return { temperature, nllBefore: meanNll(probs, gold, 1), nllAfter: meanNll(probs, gold, temperature) };
}

/** One confidence bin of a reliability table. */
export interface ReliabilityBin {
  /** The bin is [lo, hi) (the last one includes 1). */
  lo: number;
  hi: number;
  count: number;
  /** Mean confidence of the lines in the bin (NaN when empty). */
  meanConfidence: number;
  /** Share of them read right (NaN when empty). */
  accuracy: number;
}

export interface Reliability {
  bins: ReliabilityBin[];
  /** Expected calibration error: Σ_bins (count/n) · |accuracy − mean confidence|. */
  ece: number;
  n: number;
}

/**
 * Reliability table over `bins` equal-width confidence bins and the expected calibration error. `confidence[i]` is
 * the probability the model gave its answer for line i, `correct[i]` whether that answer was right.
 */
export function reliability(confidence: readonly number[], correct: readonly boolean[], bins = 10): Reliability {
  if (confidence.length !== correct.length) throw new Error('reliability: confidence/correct length mismatch');
  const count = new Array<number>(bins).fill(0);
  const confSum = new Array<number>(bins).fill(0);
  const hits = new Array<number>(bins).fill(0);
  confidence.forEach((c, i) => {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(c * bins)));
    count[b]++;
    confSum[b] += c;
    if (correct[i]) hits[b]++;
  });
  const n = confidence.length;
  let ece = 0;
  const table: ReliabilityBin[] = count.map((k, b) => {
    const meanConfidence = k === 0 ? NaN : confSum[b] / k;
    const accuracy = k === 0 ? NaN : hits[b] / k;
    if (k > 0) ece += (k / n) * Math.abs(accuracy - meanConfidence);
    return { lo: b / bins, hi: (b + 1) / bins, count: k, meanConfidence, accuracy };
  });
  return { bins: table, ece: n === 0 ? NaN : ece, n };
}

/** Reliability of probability rows against gold label indices (confidence = the top probability). */
export function reliabilityOf(probs: readonly ArrayLike<number>[], gold: readonly number[], bins = 10): Reliability {
  const conf: number[] = [];
  const correct: boolean[] = [];
  probs.forEach((p, i) => {
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
    conf.push(p[best]);
    correct.push(best === gold[i]);
  });
  return reliability(conf, correct, bins);
}
