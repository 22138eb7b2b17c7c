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
import { INPUT_INDICES, INPUT_VALUES, METADATA_FORMAT, METADATA_FORMAT_VERSION, OUTPUT_NAME, sha256, type ModelMetadata } from './model-format';
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

/** Build the ONNX ModelProto for a network. `metadata` becomes ModelProto.metadata_props (strings). */
export function buildOnnxModel(net: Network, opts: { graphName: string; docString?: string; metadata?: Record<string, string> }): onnx.ModelProto {
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  const int = (name: string, i: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
  let current = '';
  net.layers.forEach((layer: DenseLayer, i) => {
    if (layer.W.length !== layer.inDim * layer.outDim || layer.b.length !== layer.outDim) {
      throw new Error(`layer ${i}: weight shapes do not match ${layer.inDim}x${layer.outDim}`);
    }
    const wName = `W${i}`;
    const bName = `b${i}`;
    initializers.push(floatTensor(wName, [layer.inDim, layer.outDim], layer.W), floatTensor(bName, [layer.outDim], layer.b));
    const out = `dense${i}`;
    if (i === 0) {
      // Embedding-bag: the rows of W0 picked by the bucket ids, weighted by the values, summed per message.
      initializers.push(int64Tensor('axis2', [2]), int64Tensor('axis1', [1]));
      nodes.push(
        { name: 'gather0', opType: 'Gather', input: [wName, INPUT_INDICES], output: ['rows0'], attribute: [int('axis', 0)] },
        { name: 'unsqueeze0', opType: 'Unsqueeze', input: [INPUT_VALUES, 'axis2'], output: ['weights0'] },
        { name: 'mul0', opType: 'Mul', input: ['rows0', 'weights0'], output: ['weighted0'] },
        { name: 'sum0', opType: 'ReduceSum', input: ['weighted0', 'axis1'], output: ['bag0'], attribute: [int('keepdims', 0)] },
        { name: 'bias0', opType: 'Add', input: ['bag0', bName], output: [out] },
      );
    } else {
      nodes.push({ name: `gemm${i}`, opType: 'Gemm', input: [current, wName, bName], output: [out] });
    }
    current = out;
    if (layer.relu) {
      const r = `relu${i}`;
      nodes.push({ name: r, opType: 'Relu', input: [current], output: [r] });
      current = r;
    }
  });
  nodes.push({ name: 'softmax', opType: 'Softmax', input: [current], output: [OUTPUT_NAME], attribute: [int('axis', 1)] });
  const outDim = net.layers[net.layers.length - 1].outDim;
  const graph: onnx.IGraphProto = {
    name: opts.graphName,
    node: nodes,
    initializer: initializers,
    input: [
      valueInfo(INPUT_INDICES, onnx.TensorProto.DataType.INT64, ['N', 'K']),
      valueInfo(INPUT_VALUES, onnx.TensorProto.DataType.FLOAT, ['N', 'K']),
    ],
    output: [valueInfo(OUTPUT_NAME, onnx.TensorProto.DataType.FLOAT, ['N', outDim])],
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

/** Read the weights back out of an ONNX file written by buildOnnxModel (initializers W0, b0, W1, b1, … and Relu nodes). */
export function networkFromOnnx(bytes: Uint8Array): Network {
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
  for (let i = 0; inits.has(`W${i}`); i++) {
    const W = inits.get(`W${i}`)!;
    const b = inits.get(`b${i}`);
    if (!b) throw new Error(`layer ${i}: missing bias b${i}`);
    const [inDim, outDim] = (W.dims ?? []).map(Number);
    layers.push({ inDim, outDim, W: readFloats(W), b: readFloats(b), relu: relu.has(`relu${i}`) });
  }
  if (layers.length === 0) throw new Error('ONNX graph has no W0 initializer');
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
  const proto = buildOnnxModel(model.network, {
    graphName: `${model.task}_classifier`,
    docString: `${model.task} classifier over sparse hashed character n-gram features (${model.featurizer.version}); output order = labels`,
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
      parameters: model.network.layers.reduce((s, l) => s + l.W.length + l.b.length, 0),
    },
    onnx: { file: onnxFile, sha256: sha256(bytes), bytes: bytes.length, opset: ONNX_OPSET, irVersion: ONNX_IR_VERSION, inputs: [INPUT_INDICES, INPUT_VALUES], output: OUTPUT_NAME },
    training: { options: model.options, data: model.data, seconds: Math.round(model.trainSeconds * 10) / 10 },
    metrics: model.metrics,
    createdAt: new Date().toISOString(),
  };
  writeAtomic(onnxPath, bytes);
  writeAtomic(metaPath, JSON.stringify(metadata, null, 2) + '\n');
  return { onnxPath, metaPath, bytes: bytes.length, metadata };
}
