/**
 * Export a trained network as a standard ONNX model (opset 13, IR version 8) built with onnx-proto, plus a
 * JSON metadata file next to it.
 *
 * The features are sparse (a message has ~100 non-zero hashed buckets out of `dim`), so the graph takes them
 * as a padded batch of (bucket, value) pairs and starts with an embedding-bag, not a dense Gemm: the cost per
 * message depends on its length, not on `dim`, and a larger hashing space costs nothing at inference.
 *
 *   inputs  "indices" int64 [N, K]   bucket ids of each row, padded with 0
 *           "values"  float [N, K]   their feature values, padded with 0 (so padding adds nothing)
 *   layer 0:  ReduceSum(Gather(W0, indices) * Unsqueeze(values, 2), axis 1) + b0 → (Relu)
 *   layer i:  Gemm(h, Wi[in,out], bi[out]) → (Relu) …
 *   output  "probabilities" float [N, C]  Softmax(axis 1) over `labels` in the metadata order
 * Weights are TensorProto raw_data (little-endian float32), named W0, b0, W1, b1, …
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import type { DenseLayer, Network } from './network';
import { INPUT_EMBEDDING, INPUT_INDICES, INPUT_VALUES, METADATA_FORMAT, NGRAM_PREFIX, OUTPUT_NGRAM, METADATA_FORMAT_VERSION, OUTPUT_NAME, sha256, type ModelMetadata } from './model-format';
import type { TrainedModel } from './train-task';

const ONNX_OPSET = 13;
const ONNX_IR_VERSION = 8;

function floatTensor(name: string, dims: number[], data: Float32Array): onnx.ITensorProto {
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw };
}

function int64Tensor(name: string, values: number[]): onnx.ITensorProto {
  return { name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values };
}

const int = (name: string, i: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });

function valueInfo(name: string, elemType: onnx.TensorProto.DataType, dims: Array<number | string>): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * The layer chain of one network as graph nodes: initializers `<prefix>W0`, `<prefix>b0`, … and, when the network
 * was trained with sentence-embedding features after the n-gram buckets, `<prefix>E0` (those rows of W0) applied
 * to the `embedding` input. Returns the logits' name.
 */
function layerChain(net: Network, prefix: string, ngramDim: number, embeddingWeight: number, nodes: onnx.INodeProto[], initializers: onnx.ITensorProto[]): string {
  let current = '';
  net.layers.forEach((layer: DenseLayer, i) => {
    if (layer.W.length !== layer.inDim * layer.outDim || layer.b.length !== layer.outDim) {
      throw new Error(`layer ${i}: weight shapes do not match ${layer.inDim}x${layer.outDim}`);
    }
    const wName = `${prefix}W${i}`;
    const bName = `${prefix}b${i}`;
    const out = `${prefix}dense${i}`;
    if (i === 0) {
      // Embedding-bag: the rows of W0 picked by the bucket ids, weighted by the values, summed per message.
      const embeddingDim = layer.inDim - ngramDim;
      initializers.push(floatTensor(wName, [ngramDim, layer.outDim], layer.W.subarray(0, ngramDim * layer.outDim)), floatTensor(bName, [layer.outDim], layer.b));
      nodes.push(
        { name: `${prefix}gather0`, opType: 'Gather', input: [wName, INPUT_INDICES], output: [`${prefix}rows0`], attribute: [int('axis', 0)] },
        { name: `${prefix}unsqueeze0`, opType: 'Unsqueeze', input: [INPUT_VALUES, 'axis2'], output: [`${prefix}weights0`] },
        { name: `${prefix}mul0`, opType: 'Mul', input: [`${prefix}rows0`, `${prefix}weights0`], output: [`${prefix}weighted0`] },
        { name: `${prefix}sum0`, opType: 'ReduceSum', input: [`${prefix}weighted0`, 'axis1'], output: [`${prefix}bag0`], attribute: [int('keepdims', 0)] },
      );
      let bag = `${prefix}bag0`;
      if (embeddingDim > 0) {
        // The sentence embedding's rows of W0, as a dense MatMul on the scaled embedding input.
        const eName = `${prefix}E0`;
        initializers.push(
          floatTensor(eName, [embeddingDim, layer.outDim], layer.W.subarray(ngramDim * layer.outDim)),
          floatTensor(`${prefix}embedding_weight`, [], new Float32Array([embeddingWeight])),
        );
        nodes.push(
          { name: `${prefix}scale_e0`, opType: 'Mul', input: [INPUT_EMBEDDING, `${prefix}embedding_weight`], output: [`${prefix}scaled_e0`] },
          { name: `${prefix}matmul_e0`, opType: 'MatMul', input: [`${prefix}scaled_e0`, eName], output: [`${prefix}dense_e0`] },
          { name: `${prefix}add_e0`, opType: 'Add', input: [bag, `${prefix}dense_e0`], output: [`${prefix}fused0`] },
        );
        bag = `${prefix}fused0`;
      }
      nodes.push({ name: `${prefix}bias0`, opType: 'Add', input: [bag, bName], output: [out] });
    } else {
      initializers.push(floatTensor(wName, [layer.inDim, layer.outDim], layer.W), floatTensor(bName, [layer.outDim], layer.b));
      nodes.push({ name: `${prefix}gemm${i}`, opType: 'Gemm', input: [current, wName, bName], output: [out] });
    }
    current = out;
    if (layer.relu) {
      const r = `${prefix}relu${i}`;
      nodes.push({ name: r, opType: 'Relu', input: [current], output: [r] });
      current = r;
    }
  });
  return current;
}

/**
 * Build the ONNX ModelProto for a network. `metadata` becomes ModelProto.metadata_props (strings).
 * A fused network (trained on n-grams + a sentence embedding, `embeddingDim` > 0) gets the third input
 * "embedding" float [N, embeddingDim]; with `ngram` (the cascade's first stage, n-grams only) the graph has a
 * second output "ngram_probabilities" that does not depend on the embedding. The embedding is scaled by
 * `embeddingWeight` inside the graph, as it was in training, so callers feed the encoder's vector as it is.
 */
export function buildOnnxModel(
  net: Network,
  opts: { graphName: string; docString?: string; metadata?: Record<string, string>; embeddingDim?: number; embeddingWeight?: number; ngram?: Network },
): onnx.ModelProto {
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [int64Tensor('axis2', [2]), int64Tensor('axis1', [1])];
  const embeddingDim = opts.embeddingDim ?? 0;
  const ngramDim = net.layers[0].inDim - embeddingDim;
  const outDim = net.layers[net.layers.length - 1].outDim;
  nodes.push({ name: 'softmax', opType: 'Softmax', input: [layerChain(net, '', ngramDim, opts.embeddingWeight ?? 1, nodes, initializers)], output: [OUTPUT_NAME], attribute: [int('axis', 1)] });
  const outputs = [valueInfo(OUTPUT_NAME, onnx.TensorProto.DataType.FLOAT, ['N', outDim])];
  if (opts.ngram) {
    if (opts.ngram.layers[0].inDim !== ngramDim) throw new Error(`the n-gram network takes ${opts.ngram.layers[0].inDim} buckets, the fused one ${ngramDim}`);
    const logits = layerChain(opts.ngram, NGRAM_PREFIX, ngramDim, 1, nodes, initializers);
    nodes.push({ name: 'ngram_softmax', opType: 'Softmax', input: [logits], output: [OUTPUT_NGRAM], attribute: [int('axis', 1)] });
    outputs.push(valueInfo(OUTPUT_NGRAM, onnx.TensorProto.DataType.FLOAT, ['N', outDim]));
  }
  const graph: onnx.IGraphProto = {
    name: opts.graphName,
    node: nodes,
    initializer: initializers,
    input: [
      valueInfo(INPUT_INDICES, onnx.TensorProto.DataType.INT64, ['N', 'K']),
      valueInfo(INPUT_VALUES, onnx.TensorProto.DataType.FLOAT, ['N', 'K']),
      ...(embeddingDim > 0 ? [valueInfo(INPUT_EMBEDDING, onnx.TensorProto.DataType.FLOAT, ['N', embeddingDim])] : []),
    ],
    output: outputs,
  };
  return onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'durable-cs models/train.ts',
    producerVersion: '1',
    domain: 'durable-cs.models',
    modelVersion: 1,
    docString: opts.docString ?? '',
    graph,
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}

export function encodeOnnxModel(model: onnx.ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Read the weights back out of an ONNX file written by buildOnnxModel (initializers W0, b0, W1, b1, … and Relu
 * nodes); a fused network's E0 rows are appended to W0. `prefix` NGRAM_PREFIX reads the cascade's n-gram network.
 */
export function networkFromOnnx(bytes: Uint8Array, prefix = ''): Network {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('ONNX model has no graph');
  const inits = new Map<string, onnx.ITensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) inits.set(t.name, t);
  const readFloats = (t: onnx.ITensorProto): Float32Array => {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`tensor ${t.name}: not float32`);
    if (t.rawData && t.rawData.length > 0) {
      const raw = t.rawData;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const out = new Float32Array(raw.byteLength / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    return Float32Array.from(t.floatData ?? []);
  };
  const relu = new Set((graph.node ?? []).filter((n) => n.opType === 'Relu').map((n) => n.name));
  const layers: DenseLayer[] = [];
  for (let i = 0; inits.has(`${prefix}W${i}`); i++) {
    const W = inits.get(`${prefix}W${i}`)!;
    const b = inits.get(`${prefix}b${i}`);
    if (!b) throw new Error(`layer ${i}: missing bias ${prefix}b${i}`);
    let [inDim, outDim] = (W.dims ?? []).map(Number);
    let weights = readFloats(W);
    const E = i === 0 ? inits.get(`${prefix}E0`) : undefined;
    if (E) {
      const e = readFloats(E);
      const joined = new Float32Array(weights.length + e.length);
      joined.set(weights);
      joined.set(e, weights.length);
      weights = joined;
      inDim += Number(E.dims?.[0] ?? 0);
    }
    layers.push({ inDim, outDim, W: weights, b: readFloats(b), relu: relu.has(`${prefix}relu${i}`) });
  }
  if (layers.length === 0) throw new Error(`ONNX graph has no ${prefix}W0 initializer`);
  return { layers };
}

function writeAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** Write `<outDir>/<task>.onnx` and `<outDir>/<task>.json`. */
export function saveArtifacts(model: TrainedModel, outDir: string): { onnxPath: string; metaPath: string; bytes: number; metadata: ModelMetadata } {
  mkdirSync(outDir, { recursive: true });
  const onnxFile = `${model.task}.onnx`;
  const onnxPath = path.join(outDir, onnxFile);
  const metaPath = path.join(outDir, `${model.task}.json`);
  const hidden = model.network.layers.length > 1 ? model.network.layers[0].outDim : 0;
  const emb = model.embedding;
  const proto = buildOnnxModel(model.network, {
    graphName: `${model.task}_classifier`,
    docString: emb
      ? `${model.task} classifier over sparse hashed character n-gram features (${model.featurizer.version}) fused with the ${emb.encoder} sentence embedding, with an n-gram-only cascade head; output order = labels`
      : `${model.task} classifier over sparse hashed character n-gram features (${model.featurizer.version}); output order = labels`,
    embeddingDim: emb?.dim ?? 0,
    embeddingWeight: emb?.weight ?? 1,
    ...(model.cascade ? { ngram: model.cascade.network } : {}),
    metadata: {
      labels: JSON.stringify(model.labels),
      featurizer: JSON.stringify(model.featurizer),
      threshold: model.threshold === undefined ? '' : String(model.threshold),
    },
  });
  const bytes = encodeOnnxModel(proto);
  const metadata: ModelMetadata = {
    format: METADATA_FORMAT,
    formatVersion: METADATA_FORMAT_VERSION,
    task: model.task,
    labels: model.labels,
    dim: model.featurizer.dim,
    featurizer: model.featurizer,
    threshold: model.threshold ?? null,
    ...(model.calibration ? { calibration: model.calibration } : {}),
    model: {
      type: hidden > 0 ? 'mlp' : 'softmax-regression',
      hidden,
      parameters: [model.network, model.cascade?.network].reduce((s, net) => s + (net?.layers.reduce((t, l) => t + l.W.length + l.b.length, 0) ?? 0), 0),
    },
    ...(emb ? { encoder: { model: emb.encoder.split('@')[0], id: emb.encoder, dim: emb.dim, weight: emb.weight, kind: 'query' as const } } : {}),
    ...(model.cascade ? { cascade: model.cascade.info } : {}),
    onnx: {
      file: onnxFile,
      sha256: sha256(bytes),
      bytes: bytes.length,
      opset: ONNX_OPSET,
      irVersion: ONNX_IR_VERSION,
      inputs: [INPUT_INDICES, INPUT_VALUES, ...(emb ? [INPUT_EMBEDDING] : [])],
      output: OUTPUT_NAME,
      ...(model.cascade ? { ngramOutput: OUTPUT_NGRAM } : {}),
    },
    training: { options: model.options, data: model.data, seconds: Math.round(model.trainSeconds * 10) / 10 },
    metrics: model.metrics,
    createdAt: new Date().toISOString(),
  };
  writeAtomic(onnxPath, bytes);
  writeAtomic(metaPath, JSON.stringify(metadata, null, 2) + '\n');
  return { onnxPath, metaPath, bytes: bytes.length, metadata };
}
