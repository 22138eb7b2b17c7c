/**
 * The optimiser: seeded mini-batch Adam on sparse inputs for a softmax-regression network (optionally one
 * ReLU hidden layer), with L2 penalty, input-feature dropout and balanced class weights. Everything random
 * (init, batch order, dropout) comes from mulberry32(seed), so the same data + options give bit-identical weights.
 */
import type { SparseVector } from './featurize';
import { OOS_LABEL } from './data';
import { mulberry32, gaussian } from './random';
import type { DenseLayer, Network } from './network';
import { softmaxInPlace } from './network';

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

export interface LabelledVector {
  x: SparseVector;
  y: number;
}

function classWeights(ys: readonly number[], labels: readonly string[], opts: Pick<TrainOptions, 'classWeighting' | 'oosWeight'>): Float64Array {
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
