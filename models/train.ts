/**
 * Training for the intent and emotion classifiers.
 *
 *   tsx models/train.ts [--data file.jsonl] [--task intent|emotion|all] [--out models/artifacts] [--seed N]
 *
 * Without --data it trains both tasks from models/corpus (intent.jsonl + intent-extra*.jsonl, emotion.jsonl). --data a.jsonl[,b.jsonl] trains one
 * task (--task intent or emotion, default intent) from any JSONL of {"text","label","split"?}; when no line
 * has a "split", a seeded, stratified 10% is held out as test.
 *
 * Model: softmax regression (optionally one ReLU hidden layer) over the hashed n-gram features of
 * models/featurize.ts, trained with seeded mini-batch Adam on sparse inputs, L2 penalty, balanced class
 * weights. Everything that is random (splits, init, batch order) comes from mulberry32(seed), so the same
 * data + options + seed give bit-identical weights.
 *
 * Out-of-scope threshold (intent): grouped k-fold cross-validation on the TRAIN split only
 * (near-duplicate train lines are kept in the same fold, so a validation fold looks like new wording,
 * not like paraphrases of lines the model was trained on). The out-of-fold probabilities choose the
 * threshold; the test split is never used for any choice, it is only reported.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_FEATURIZER, Featurizer, type FeaturizerSettings, type SparseVector } from './featurize';
import { type Example, loadJsonl, OOS_LABEL, trainTestSplit } from './data';
import { mulberry32, shuffleInPlace, gaussian } from './random';
import type { DenseLayer, Network } from './network';
import { forwardSparse, softmaxInPlace } from './network';
import { decide } from './decision';
import { classificationReport, oosReport, type ClassificationReport, type OosReport } from './metrics';

export type Task = 'intent' | 'emotion';

export interface TrainOptions {
  /** Hidden ReLU units; 0 = multinomial logistic regression. */
  hidden: number;
  epochs: number;
  batchSize: number;
  /** Adam peak learning rate (linear warm-down to 10% over training). */
  lr: number;
  /** L2 penalty on weight matrices (not biases), added to the mean loss as l2/2·‖W‖². */
  l2: number;
  seed: number;
  /** "balanced": weight n/(C·n_c), normalised to mean 1 over the examples. */
  classWeighting: 'balanced' | 'none';
  /** Extra multiplier on the "oos" class weight (after balancing). */
  oosWeight: number;
  /**
   * Input feature dropout during training (each hashed feature of an example is dropped with this
   * probability, survivors scaled by 1/(1−p)); spreads weight over more n-grams, which helps on new wording.
   */
  inputDropout: number;
}

export const DEFAULT_TRAIN_OPTIONS: Record<Task, TrainOptions> = {
  intent: { hidden: 0, epochs: 10, batchSize: 32, lr: 0.05, l2: 1e-7, seed: 20240611, classWeighting: 'balanced', oosWeight: 3, inputDropout: 0.2 },
  emotion: { hidden: 0, epochs: 10, batchSize: 32, lr: 0.05, l2: 1e-5, seed: 20240611, classWeighting: 'balanced', oosWeight: 1, inputDropout: 0 },
};

export const DEFAULT_FEATURIZERS: Record<Task, FeaturizerSettings> = {
  // The domain lexicon is about topics, so it is used (with extra weight) for intent only.
  intent: { ...DEFAULT_FEATURIZER, dim: 1 << 16, lexiconWeight: 3 },
  emotion: { ...DEFAULT_FEATURIZER, lexicon: null },
};

export interface LabelledVector {
  x: SparseVector;
  y: number;
}

// ---------------------------------------------------------------------------------------------------------
// Optimiser
// ---------------------------------------------------------------------------------------------------------

export function classWeights(ys: readonly number[], labels: readonly string[], opts: Pick<TrainOptions, 'classWeighting' | 'oosWeight'>): Float64Array {
  const C = labels.length;
  const counts = new Float64Array(C);
  for (const y of ys) counts[y]++;
  const w = new Float64Array(C).fill(1);
  if (opts.classWeighting === 'balanced') {
    for (let c = 0; c < C; c++) w[c] = counts[c] > 0 ? ys.length / (C * counts[c]) : 0;
  }
  const oos = labels.indexOf(OOS_LABEL);
  if (oos >= 0) w[oos] *= opts.oosWeight;
  // Normalise so the mean per-example weight is 1 (keeps lr / l2 meaning independent of weighting).
  let mean = 0;
  for (const y of ys) mean += w[y];
  mean /= Math.max(1, ys.length);
  if (mean > 0) for (let c = 0; c < C; c++) w[c] /= mean;
  return w;
}

function newLayer(inDim: number, outDim: number, relu: boolean, initStd: number, rand: () => number): DenseLayer {
  const W = new Float32Array(inDim * outDim);
  if (initStd > 0) for (let i = 0; i < W.length; i++) W[i] = gaussian(rand) * initStd;
  return { inDim, outDim, W, b: new Float32Array(outDim), relu };
}

/** Training inputs packed into flat arrays (CSR) for tight loops. */
interface PackedData {
  n: number;
  offsets: Int32Array;
  indices: Int32Array;
  values: Float64Array;
  ys: Int32Array;
}

function pack(data: readonly LabelledVector[]): PackedData {
  const offsets = new Int32Array(data.length + 1);
  for (let i = 0; i < data.length; i++) offsets[i + 1] = offsets[i] + data[i].x.indices.length;
  const indices = new Int32Array(offsets[data.length]);
  const values = new Float64Array(offsets[data.length]);
  const ys = new Int32Array(data.length);
  data.forEach((d, i) => {
    indices.set(d.x.indices, offsets[i]);
    values.set(d.x.values, offsets[i]);
    ys[i] = d.y;
  });
  return { n: data.length, offsets, indices, values, ys };
}

/**
 * Train a network on sparse inputs with seeded mini-batch Adam. Deterministic: same inputs → same weights.
 * `labels` is only used to find "oos" for its class weight.
 */
export function trainNetwork(data: readonly LabelledVector[], labels: readonly string[], dim: number, opts: TrainOptions): Network {
  const C = labels.length;
  const H = opts.hidden;
  const rand = mulberry32(opts.seed);
  const layers: DenseLayer[] =
    H > 0
      ? [newLayer(dim, H, true, 0.5, rand), newLayer(H, C, false, Math.sqrt(2 / (H + C)), rand)]
      : [newLayer(dim, C, false, 0, rand)];
  const params: Float32Array[] = [];
  const isWeight: boolean[] = [];
  for (const l of layers) {
    params.push(l.W, l.b);
    isWeight.push(true, false);
  }
  const grads = params.map((p) => new Float32Array(p.length));
  const m = params.map((p) => new Float32Array(p.length));
  const v = params.map((p) => new Float32Array(p.length));
  const classW = classWeights(
    data.map((d) => d.y),
    labels,
    opts,
  );
  const P = pack(data);
  const N = P.n;
  const B = Math.max(1, Math.min(opts.batchSize, N));
  const totalSteps = Math.max(1, opts.epochs * Math.ceil(N / B));
  const order = new Int32Array(N);
  for (let i = 0; i < N; i++) order[i] = i;
  const ws = new Work(layers, grads, C, H);

  const drop = opts.inputDropout;
  if (!(drop >= 0 && drop < 1)) throw new Error(`inputDropout must be in [0, 1), got ${drop}`);
  const keepScale = 1 / (1 - drop);
  let maxNnz = 0;
  for (let i = 0; i < N; i++) maxNnz = Math.max(maxNnz, P.offsets[i + 1] - P.offsets[i]);
  const dropIdx = new Int32Array(maxNnz);
  const dropVal = new Float64Array(maxNnz);
  const rowMark = new Int32Array(dim).fill(-1);
  const touched = new Int32Array(dim);
  const out0 = layers[0].outDim;
  let step = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = N - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (let start = 0; start < N; start += B) {
      const end = Math.min(N, start + B);
      const scale = 1 / (end - start);
      for (let bi = start; bi < end; bi++) {
        const e = order[bi];
        const y = P.ys[e];
        const wy = classW[y] * scale;
        if (wy === 0) continue;
        let idx = P.indices;
        let val = P.values;
        let from = P.offsets[e];
        let to = P.offsets[e + 1];
        if (drop > 0) {
          let n = 0;
          for (let k = from; k < to; k++) {
            if (rand() < drop) continue;
            dropIdx[n] = P.indices[k];
            dropVal[n] = P.values[k] * keepScale;
            n++;
          }
          idx = dropIdx;
          val = dropVal;
          from = 0;
          to = n;
        }
        if (H > 0) ws.mlpExample(idx, val, from, to, y, wy);
        else ws.linearExample(idx, val, from, to, y, wy);
      }
      // ---- Adam step. The first layer's weight matrix is updated lazily: only the rows of the features
      // seen in this batch (sparse/"lazy" Adam, the usual choice for sparse inputs); its L2 penalty is
      // applied to those rows too. All other parameters (biases, hidden→output) get a dense update.
      step++;
      const lrT = opts.lr * (1 - (0.9 * (step - 1)) / totalSteps); // linear decay to lr/10
      const bc1 = 1 - Math.pow(BETA1, step);
      const bc2 = 1 - Math.pow(BETA2, step);
      const stepSize = (lrT * Math.sqrt(bc2)) / bc1;
      const epsHat = EPS * Math.sqrt(bc2);
      let nTouched = 0;
      for (let bi = start; bi < end; bi++) {
        const e = order[bi];
        for (let k = P.offsets[e]; k < P.offsets[e + 1]; k++) {
          const r = P.indices[k];
          if (rowMark[r] !== step) {
            rowMark[r] = step;
            touched[nTouched++] = r;
          }
        }
      }
      for (let t = 0; t < nTouched; t++) {
        const from = touched[t] * out0;
        adamRange(params[0], grads[0], m[0], v[0], from, from + out0, opts.l2, stepSize, epsHat);
      }
      for (let p = 1; p < params.length; p++) {
        adamRange(params[p], grads[p], m[p], v[p], 0, params[p].length, isWeight[p] ? opts.l2 : 0, stepSize, epsHat);
      }
    }
  }
  return { layers };
}

/** Per-example forward + backward, accumulating gradients (monomorphic hot loops). */
class Work {
  private readonly W0: Float32Array;
  private readonly b0: Float32Array;
  private readonly gW0: Float32Array;
  private readonly gb0: Float32Array;
  private readonly W1: Float32Array;
  private readonly b1: Float32Array;
  private readonly gW1: Float32Array;
  private readonly gb1: Float32Array;
  private readonly z1: Float64Array;
  private readonly probs: Float64Array;
  private readonly dOut: Float64Array;
  private readonly dHidden: Float64Array;

  constructor(
    layers: DenseLayer[],
    grads: Float32Array[],
    private readonly C: number,
    private readonly H: number,
  ) {
    this.W0 = layers[0].W;
    this.b0 = layers[0].b;
    this.gW0 = grads[0];
    this.gb0 = grads[1];
    this.W1 = layers[1]?.W ?? new Float32Array(0);
    this.b1 = layers[1]?.b ?? new Float32Array(0);
    this.gW1 = grads[2] ?? new Float32Array(0);
    this.gb1 = grads[3] ?? new Float32Array(0);
    this.z1 = new Float64Array(layers[0].outDim);
    this.probs = new Float64Array(C);
    this.dOut = new Float64Array(C);
    this.dHidden = new Float64Array(H);
  }

  linearExample(indices: Int32Array, values: Float64Array, from: number, to: number, y: number, wy: number): void {
    const { C, W0, b0, gW0, gb0, probs, dOut } = this;
    for (let c = 0; c < C; c++) probs[c] = b0[c];
    for (let k = from; k < to; k++) {
      const xv = values[k];
      const base = indices[k] * C;
      for (let c = 0; c < C; c++) probs[c] += xv * W0[base + c];
    }
    softmaxInPlace(probs);
    for (let c = 0; c < C; c++) dOut[c] = wy * probs[c];
    dOut[y] -= wy;
    for (let k = from; k < to; k++) {
      const xv = values[k];
      const base = indices[k] * C;
      for (let c = 0; c < C; c++) gW0[base + c] += xv * dOut[c];
    }
    for (let c = 0; c < C; c++) gb0[c] += dOut[c];
  }

  mlpExample(indices: Int32Array, values: Float64Array, from: number, to: number, y: number, wy: number): void {
    const { C, H, W0, b0, gW0, gb0, W1, b1, gW1, gb1, z1, probs, dOut, dHidden } = this;
    for (let j = 0; j < H; j++) z1[j] = b0[j];
    for (let k = from; k < to; k++) {
      const xv = values[k];
      const base = indices[k] * H;
      for (let j = 0; j < H; j++) z1[j] += xv * W0[base + j];
    }
    for (let j = 0; j < H; j++) if (z1[j] < 0) z1[j] = 0; // z1 is now the ReLU output h
    for (let c = 0; c < C; c++) probs[c] = b1[c];
    for (let j = 0; j < H; j++) {
      const hj = z1[j];
      if (hj === 0) continue;
      const base = j * C;
      for (let c = 0; c < C; c++) probs[c] += hj * W1[base + c];
    }
    softmaxInPlace(probs);
    for (let c = 0; c < C; c++) dOut[c] = wy * probs[c];
    dOut[y] -= wy;
    for (let j = 0; j < H; j++) {
      const hj = z1[j];
      const base = j * C;
      if (hj === 0) {
        dHidden[j] = 0;
        continue;
      }
      let acc = 0;
      for (let c = 0; c < C; c++) {
        gW1[base + c] += hj * dOut[c];
        acc += W1[base + c] * dOut[c];
      }
      dHidden[j] = acc;
    }
    for (let c = 0; c < C; c++) gb1[c] += dOut[c];
    for (let k = from; k < to; k++) {
      const xv = values[k];
      const base = indices[k] * H;
      for (let j = 0; j < H; j++) gW0[base + j] += xv * dHidden[j];
    }
    for (let j = 0; j < H; j++) gb0[j] += dHidden[j];
  }
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

/** One Adam update of P[from..to) with gradient G (+ l2·P); clears G[from..to). */
function adamRange(P: Float32Array, G: Float32Array, M: Float32Array, V: Float32Array, from: number, to: number, l2: number, stepSize: number, epsHat: number): void {
  for (let i = from; i < to; i++) {
    const g = G[i] + l2 * P[i];
    G[i] = 0;
    const mi = BETA1 * M[i] + (1 - BETA1) * g;
    const vi = BETA2 * V[i] + (1 - BETA2) * g * g;
    M[i] = mi;
    V[i] = vi;
    P[i] -= (stepSize * mi) / (Math.sqrt(vi) + epsHat);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Validation: near-duplicate groups, grouped folds, threshold
// ---------------------------------------------------------------------------------------------------------

function bigramSet(text: string): Set<string> {
  const chars = Array.from(text.normalize('NFKC').toLowerCase().replace(/\s+/g, ''));
  const s = new Set<string>();
  if (chars.length === 1) s.add(chars[0]);
  for (let i = 0; i + 1 < chars.length; i++) s.add(chars[i] + chars[i + 1]);
  return s;
}

/**
 * Group ids such that same-label texts whose character-bigram Jaccard similarity is ≥ `minJaccard`
 * (transitively, up to `maxGroupSize` members) share a group. Used to keep paraphrase clusters inside one
 * CV fold.
 */
export function nearDuplicateGroups(items: readonly { text: string; label: string }[], minJaccard = 0.5, maxGroupSize = 10): number[] {
  const parent = items.map((_, i) => i);
  const size = items.map(() => 1);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const sets = items.map((it) => bigramSet(it.text));
  const byLabel = new Map<string, number[]>();
  items.forEach((it, i) => {
    const l = byLabel.get(it.label) ?? [];
    l.push(i);
    byLabel.set(it.label, l);
  });
  for (const ids of byLabel.values()) {
    const postings = new Map<string, number[]>();
    for (const i of ids) {
      const shared = new Map<number, number>();
      for (const bg of sets[i]) {
        const list = postings.get(bg);
        if (list) for (const j of list) shared.set(j, (shared.get(j) ?? 0) + 1);
      }
      for (const [j, s] of shared) {
        const jac = s / (sets[i].size + sets[j].size - s);
        if (jac < minJaccard) continue;
        const a = find(i);
        const b = find(j);
        // Cap the size so that chains of paraphrases ("谢谢", "谢谢你", "多谢", …) do not swallow a whole label.
        if (a !== b && size[a] + size[b] <= maxGroupSize) {
          parent[a] = b;
          size[b] += size[a];
        }
      }
      for (const bg of sets[i]) {
        const list = postings.get(bg) ?? [];
        list.push(i);
        postings.set(bg, list);
      }
    }
  }
  return items.map((_, i) => find(i));
}

/**
 * For each item, the highest character-bigram Jaccard similarity to any item in a *different* fold (any
 * label). Validation items with a low value are "new wording" relative to what their model was trained
 * on, like the hand-written test split.
 */
export function maxSimilarityToOtherFolds(items: readonly { text: string }[], foldOf: readonly number[]): Float64Array {
  const sets = items.map((it) => bigramSet(it.text));
  const postings = new Map<string, number[]>();
  sets.forEach((set, i) => {
    for (const bg of set) {
      const l = postings.get(bg) ?? [];
      l.push(i);
      postings.set(bg, l);
    }
  });
  const out = new Float64Array(items.length);
  const shared = new Int32Array(items.length);
  const seen: number[] = [];
  for (let i = 0; i < items.length; i++) {
    for (const bg of sets[i]) {
      for (const j of postings.get(bg)!) {
        if (foldOf[j] === foldOf[i]) continue;
        if (shared[j] === 0) seen.push(j);
        shared[j]++;
      }
    }
    let best = 0;
    for (const j of seen) {
      const jac = shared[j] / (sets[i].size + sets[j].size - shared[j]);
      if (jac > best) best = jac;
      shared[j] = 0;
    }
    seen.length = 0;
    out[i] = best;
  }
  return out;
}

/**
 * Assign each item a fold in [0, k): whole groups per fold, balanced per label (largest groups first,
 * each into the fold with the fewest items of that label so far). Seeded.
 */
export function groupedStratifiedFolds(items: readonly { label: string }[], groups: readonly number[], k: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const fold = new Array<number>(items.length).fill(0);
  const groupMembers = new Map<number, number[]>();
  groups.forEach((g, i) => {
    const l = groupMembers.get(g) ?? [];
    l.push(i);
    groupMembers.set(g, l);
  });
  const groupsByLabel = new Map<string, number[][]>();
  for (const members of groupMembers.values()) {
    const label = items[members[0]].label;
    const l = groupsByLabel.get(label) ?? [];
    l.push(members);
    groupsByLabel.set(label, l);
  }
  for (const label of [...groupsByLabel.keys()].sort()) {
    const gs = shuffleInPlace(groupsByLabel.get(label)!, rand);
    gs.sort((a, b) => b.length - a.length); // stable: ties keep the shuffled order
    const load = new Array<number>(k).fill(0);
    for (const members of gs) {
      let f = 0;
      for (let j = 1; j < k; j++) if (load[j] < load[f]) f = j;
      for (const i of members) fold[i] = f;
      load[f] += members.length;
    }
  }
  return fold;
}

export interface ThresholdChoice {
  threshold: number;
  objective: number;
  oos: OosReport;
  accuracy: number;
}

/**
 * Choose the oos threshold on validation probabilities. Objective:
 *   0.5 · (in-scope accuracy) + 0.5 · (oos recall)
 * i.e. balanced accuracy between the in-scope block and oos, so oos (≈ 10% of traffic) is not drowned out.
 * Candidates 0.00..0.95 in steps of 0.01. The objective is usually flat near its maximum, so instead of the
 * single arg-max (which jitters with the data) take the middle of the candidates scoring within
 * `tolerance` of the best.
 */
export function chooseThreshold(probs: readonly Float64Array[], gold: readonly string[], labels: readonly string[], tolerance = 0.0025): ThresholdChoice {
  const candidates: ThresholdChoice[] = [];
  for (let t100 = 0; t100 <= 95; t100++) {
    const t = t100 / 100;
    const pred = probs.map((p) => labels[decide(p, labels, t)]);
    const oos = oosReport(gold, pred, t);
    const objective = 0.5 * oos.inScopeAccuracy + 0.5 * oos.oosRecall;
    let correct = 0;
    for (let i = 0; i < gold.length; i++) if (pred[i] === gold[i]) correct++;
    candidates.push({ threshold: t, objective, oos, accuracy: correct / gold.length });
  }
  const best = Math.max(...candidates.map((c) => c.objective));
  const near = candidates.filter((c) => c.objective >= best - tolerance);
  return near[Math.floor((near.length - 1) / 2)];
}

// ---------------------------------------------------------------------------------------------------------
// Task training
// ---------------------------------------------------------------------------------------------------------

export interface TaskTrainConfig {
  task: Task;
  featurizer: FeaturizerSettings;
  options: TrainOptions;
  /** Folds for the grouped cross-validation on train (≥ 2), or 1 for a single seeded 10% validation slice. */
  folds: number;
  /** Validation lines count as "new wording" below this max bigram Jaccard to their model's training lines. */
  novelMaxSimilarity: number;
  /** Report test metrics when a test split exists (never used for any choice). */
  reportTest: boolean;
  log?: (msg: string) => void;
}

export interface SubsetMetrics {
  n: number;
  report: Omit<ClassificationReport, 'perClass'>;
  oos?: OosReport;
}

export interface TrainedModel {
  task: Task;
  labels: string[];
  featurizer: FeaturizerSettings;
  network: Network;
  /** oos threshold, only when the labels include "oos". */
  threshold?: number;
  options: TrainOptions;
  metrics: {
    validation: { method: string; all: SubsetMetrics; novel: SubsetMetrics & { maxSimilarity: number } };
    test?: { n: number; report: Omit<ClassificationReport, 'perClass'>; oos?: OosReport };
  };
  data: { train: number; test: number; splitSource: string; source: string };
  trainSeconds: number;
}

function summary(r: ClassificationReport): Omit<ClassificationReport, 'perClass'> {
  return { n: r.n, accuracy: r.accuracy, macroF1: r.macroF1, topConfusions: r.topConfusions.slice(0, 5) };
}

export function trainTask(examples: readonly Example[], source: string, cfg: TaskTrainConfig): TrainedModel {
  const t0 = performance.now();
  const log = cfg.log ?? (() => undefined);
  const { train, test, splitSource } = trainTestSplit(examples, cfg.options.seed);
  if (train.length === 0) throw new Error(`${source}: no training examples`);
  const labels = [...new Set(train.map((e) => e.label))].sort();
  if (labels.length < 2) throw new Error(`${source}: need at least 2 labels in train, got ${labels.length}`);
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const hasOos = labelIndex.has(OOS_LABEL);
  const featurizer = new Featurizer(cfg.featurizer);
  const vecs: LabelledVector[] = train.map((e) => ({ x: featurizer.featurize(e.text), y: labelIndex.get(e.label)! }));
  log(`[${cfg.task}] ${train.length} train / ${test.length} test examples, ${labels.length} labels (split: ${splitSource})`);

  // ---- validation on train only: out-of-fold probabilities
  const foldOf = validationFolds(train, cfg.folds, cfg.options.seed);
  const k = Math.max(...foldOf) + 1;
  const oofProbs: (Float64Array | undefined)[] = new Array(train.length).fill(undefined);
  for (let f = 0; f < k; f++) {
    const fitIdx: number[] = [];
    const valIdx: number[] = [];
    foldOf.forEach((fo, i) => (fo === f ? valIdx : fitIdx).push(i));
    if (valIdx.length === 0) continue;
    const net = trainNetwork(
      fitIdx.map((i) => vecs[i]),
      labels,
      featurizer.dim,
      { ...cfg.options, seed: cfg.options.seed + 1 + f },
    );
    for (const i of valIdx) oofProbs[i] = forwardSparse(net, vecs[i].x);
  }
  const valIdx = oofProbs.flatMap((p, i) => (p ? [i] : []));
  // "New wording" subset: validation lines whose best character-bigram Jaccard match among the lines their
  // model was trained on is < novelMaxSimilarity. This mimics the hand-written test split (written to be
  // unlike train), while a plain CV fold is full of paraphrases of training lines and is far too easy.
  const sim = maxSimilarityToOtherFolds(train, foldOf);
  const novelIdx = valIdx.filter((i) => sim[i] < cfg.novelMaxSimilarity);
  const subset = (idx: number[]) => ({ probs: idx.map((i) => oofProbs[i]!), gold: idx.map((i) => train[i].label) });
  const all = subset(valIdx);
  const novel = subset(novelIdx);
  const novelOos = novel.gold.filter((g) => g === OOS_LABEL).length;
  const useNovel = novelOos >= 20 && novel.gold.length - novelOos >= 100;
  let threshold: number | undefined;
  if (cfg.task === 'intent' && hasOos) {
    const on = useNovel ? novel : all;
    const choice = chooseThreshold(on.probs, on.gold, labels);
    threshold = choice.threshold;
    log(
      `[${cfg.task}] oos threshold ${threshold.toFixed(2)} chosen on ${useNovel ? 'new-wording' : 'all'} validation lines ` +
        `(oos recall ${pct(choice.oos.oosRecall)}, in-scope false rejection ${pct(choice.oos.inScopeFalseRejectionRate)}, accuracy ${pct(choice.accuracy)})`,
    );
  }
  const evalSubset = (sub: { probs: Float64Array[]; gold: string[] }) => {
    const pred = sub.probs.map((p) => labels[decide(p, labels, threshold)]);
    const report = classificationReport(labels, sub.gold, pred);
    return { n: sub.gold.length, report: summary(report), ...(threshold !== undefined ? { oos: oosReport(sub.gold, pred, threshold) } : {}) };
  };
  const method = k === 1 ? 'seeded stratified 10% of train' : `${k}-fold grouped cross-validation on train (near-duplicates kept together)`;
  const validation = {
    method,
    all: evalSubset(all),
    novel: { maxSimilarity: cfg.novelMaxSimilarity, ...evalSubset(novel) },
  };
  log(`[${cfg.task}] validation (${method}): accuracy ${pct(validation.all.report.accuracy)}, macro-F1 ${pct(validation.all.report.macroF1)} on ${validation.all.n} lines`);
  log(
    `[${cfg.task}] validation, new-wording subset (bigram Jaccard < ${cfg.novelMaxSimilarity}): accuracy ${pct(validation.novel.report.accuracy)}, ` +
      `macro-F1 ${pct(validation.novel.report.macroF1)} on ${validation.novel.n} lines` +
      (validation.novel.oos ? `, oos recall ${pct(validation.novel.oos.oosRecall)}, false rejection ${pct(validation.novel.oos.inScopeFalseRejectionRate)}` : ''),
  );

  // ---- final model on all of train
  const network = trainNetwork(vecs, labels, featurizer.dim, cfg.options);
  const trainSeconds = (performance.now() - t0) / 1000;

  const metrics: TrainedModel['metrics'] = { validation };
  if (cfg.reportTest && test.length > 0) {
    const gold = test.map((e) => e.label);
    const pred = test.map((e) => labels[decide(forwardSparse(network, featurizer.featurize(e.text)), labels, threshold)]);
    const rep = classificationReport(labels, gold, pred);
    metrics.test = { n: test.length, report: summary(rep), ...(threshold !== undefined ? { oos: oosReport(gold, pred, threshold) } : {}) };
    log(`[${cfg.task}] test (report only): accuracy ${pct(rep.accuracy)}, macro-F1 ${pct(rep.macroF1)}`);
  }
  log(`[${cfg.task}] trained in ${trainSeconds.toFixed(1)} s`);
  return {
    task: cfg.task,
    labels,
    featurizer: featurizer.settings,
    network,
    threshold,
    options: cfg.options,
    metrics,
    data: { train: train.length, test: test.length, splitSource, source },
    trainSeconds,
  };
}

/** Fold id per train item: grouped stratified k-fold, or (k = 1) a single stratified 10% slice as fold 0. */
export function validationFolds(train: readonly Example[], folds: number, seed: number): number[] {
  if (folds >= 2) return groupedStratifiedFolds(train, nearDuplicateGroups(train), folds, seed);
  // Single slice: fold 0 = validation (≈10% per label, groups kept together), fold 1 = fit.
  const tenFold = groupedStratifiedFolds(train, nearDuplicateGroups(train), 10, seed);
  return tenFold.map((f) => (f === 0 ? 0 : 1));
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

// ---------------------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------------------

export const MODELS_DIR = __dirname;
export const DEFAULT_ARTIFACTS_DIR = path.join(MODELS_DIR, 'artifacts');
/** The project's corpus per task; extra train-only files are added when present. */
export const CORPUS: Record<Task, string[]> = {
  intent: ['intent.jsonl', 'intent-extra.jsonl', 'intent-extra2.jsonl', 'intent-extra3.jsonl', 'intent-extra4.jsonl'].map((f) => path.join(MODELS_DIR, 'corpus', f)).filter((f, i) => i === 0 || existsSync(f)),
  emotion: [path.join(MODELS_DIR, 'corpus', 'emotion.jsonl')],
};

export function parseArgs(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new Error(`missing value for ${a}`);
      out[a.slice(2)] = next;
      i++;
    }
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  for (const key of Object.keys(args)) {
    if (!['data', 'task', 'out', 'seed', 'folds'].includes(key)) throw new Error(`unknown option --${key}`);
  }
  const taskArg = args.task ?? (args.data ? 'intent' : 'all');
  if (!['intent', 'emotion', 'all'].includes(taskArg)) throw new Error(`--task must be intent, emotion or all, got "${taskArg}"`);
  if (args.data && taskArg === 'all') throw new Error('--data trains one task: add --task intent or --task emotion');
  const tasks: Task[] = taskArg === 'all' ? ['intent', 'emotion'] : [taskArg as Task];
  const outDir = path.resolve(args.out ?? DEFAULT_ARTIFACTS_DIR);
  const folds = args.folds !== undefined ? Number(args.folds) : 5;
  if (!Number.isInteger(folds) || folds < 1) throw new Error('--folds must be a positive integer');

  const { saveArtifacts } = await import('./onnx-export');
  const t0 = performance.now();
  for (const task of tasks) {
    // --data takes one file or several, comma-separated.
    const files = (args.data ? args.data.split(',') : CORPUS[task]).map((f) => path.resolve(f));
    const options = { ...DEFAULT_TRAIN_OPTIONS[task], ...(args.seed !== undefined ? { seed: Number(args.seed) } : {}) };
    const model = trainTask(files.flatMap((f) => loadJsonl(f)), files.map((f) => path.relative(process.cwd(), f)).join(','), {
      task,
      featurizer: DEFAULT_FEATURIZERS[task],
      options,
      folds,
      novelMaxSimilarity: 0.3,
      reportTest: true,
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
