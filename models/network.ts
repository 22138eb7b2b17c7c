/**
 * The model: a stack of dense layers ending in softmax. With no hidden layer it is multinomial logistic
 * regression; with one hidden layer (ReLU) it is a small MLP. Weights are float32, row-major [in, out],
 * exactly the layout of the ONNX initializers, so the TypeScript forward pass below computes the
 * same function as the exported graph.
 */
import type { SparseVector } from './featurize';

export interface DenseLayer {
  inDim: number;
  outDim: number;
  /** Row-major [inDim, outDim]. */
  W: Float32Array;
  /** [outDim]. */
  b: Float32Array;
  /** ReLU after this layer (never on the last layer, which feeds softmax). */
  relu: boolean;
}

export interface Network {
  layers: DenseLayer[];
}

/** Numerically stable softmax in place. */
export function softmaxInPlace(z: Float64Array | Float32Array): void {
  let max = -Infinity;
  for (let i = 0; i < z.length; i++) if (z[i] > max) max = z[i];
  let sum = 0;
  for (let i = 0; i < z.length; i++) {
    z[i] = Math.exp(z[i] - max);
    sum += z[i];
  }
  for (let i = 0; i < z.length; i++) z[i] /= sum;
}

/** y = x·W + b for a dense input row. */
function denseLayer(layer: DenseLayer, x: ArrayLike<number>): Float64Array {
  const { inDim, outDim, W, b } = layer;
  const y = new Float64Array(outDim);
  for (let o = 0; o < outDim; o++) y[o] = b[o];
  for (let i = 0; i < inDim; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const base = i * outDim;
    for (let o = 0; o < outDim; o++) y[o] += xi * W[base + o];
  }
  if (layer.relu) for (let o = 0; o < outDim; o++) if (y[o] < 0) y[o] = 0;
  return y;
}

/** First layer for a sparse input. */
function sparseLayer(layer: DenseLayer, x: SparseVector): Float64Array {
  const { outDim, W, b } = layer;
  const y = new Float64Array(outDim);
  for (let o = 0; o < outDim; o++) y[o] = b[o];
  for (let k = 0; k < x.indices.length; k++) {
    const xi = x.values[k];
    const base = x.indices[k] * outDim;
    for (let o = 0; o < outDim; o++) y[o] += xi * W[base + o];
  }
  if (layer.relu) for (let o = 0; o < outDim; o++) if (y[o] < 0) y[o] = 0;
  return y;
}

/** Pure TypeScript forward pass for a sparse feature vector → class probabilities (the function the ONNX graph computes). */
export function forwardSparse(net: Network, x: SparseVector): Float64Array {
  let out = sparseLayer(net.layers[0], x);
  for (let l = 1; l < net.layers.length; l++) out = denseLayer(net.layers[l], out);
  softmaxInPlace(out);
  return out;
}
