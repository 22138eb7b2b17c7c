/**
 * The sentence encoder (multilingual-e5-small) served in-process by onnxruntime-node.
 *
 *   const enc = await SentenceEncoder.load();            // throws EncoderUnavailable when not set up
 *   const [v] = await enc.embed(['订单怎么还没发货'], 'query');   // Float32Array(384), L2-normalised
 *
 * Text → "query: "/"passage: " prefix (the model card's convention) → SentencePiece pieces (tokenizer.ts) →
 * `<s>` pieces `</s>` → word + position + token-type embeddings, looked up here from the 4-bit word table
 * (so its 96 M weights stay 4-bit in memory) → the ONNX graph (graph.ts) → mean pooling → L2 normalisation.
 * A text longer than the model's 512 positions is cut into windows of 510 pieces whose pooled vectors are
 * averaged weighted by their piece counts, so nothing of a long message is silently dropped.
 *
 * `load` checks the sha256 of both files against the build metadata that scripts/build-encoder.ts wrote.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { dequantiseRow, E5File } from './e5-file';
import { ENCODER_INPUTS, ENCODER_OUTPUT } from './graph';
import { UnigramTokenizer } from './tokenizer';
import { sha256 } from '../model-format';

export type EmbedKind = 'query' | 'passage';

export const ENCODER_METADATA_FILE = 'encoder.json';
const PREFIX: Record<EmbedKind, string> = { query: 'query: ', passage: 'passage: ' };

export const EncoderMetadataSchema = z.object({
  format: z.literal('cs-sentence-encoder'),
  version: z.literal(1),
  model: z.string(),
  dim: z.number().int().positive(),
  source: z.object({ package: z.string(), file: z.string(), sha256: z.string().length(64) }),
  onnx: z.object({ file: z.string(), sha256: z.string().length(64), bytes: z.number().int().positive() }),
  createdAt: z.string(),
});
export type EncoderMetadata = z.infer<typeof EncoderMetadataSchema>;

/** What understanding, retrieval and the embedding cache need of an encoder (in-thread or in a worker thread). */
export interface Embedder {
  readonly id: string;
  readonly dim: number;
  embed(texts: readonly string[], kind: EmbedKind): Promise<Float32Array[]>;
  release(): Promise<void>;
}

/** An encoder build's id: model name and the first 12 hex of its graph's sha256. */
export const encoderId = (meta: EncoderMetadata) => `${meta.model}@${meta.onnx.sha256.slice(0, 12)}`;

export class EncoderUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncoderUnavailable';
  }
}

/** Where setup puts the converted encoder (CS_ENCODER_DIR, default .data/encoder). */
export function defaultEncoderDir(): string {
  return process.env.CS_ENCODER_DIR ?? path.join(__dirname, '..', '..', '.data', 'encoder');
}

export interface EncoderLoadOptions {
  dir?: string;
  /** onnxruntime intra-op threads (default 1: workers run several turns at once on few cores; CS_ENCODER_THREADS). */
  threads?: number;
}

export class SentenceEncoder implements Embedder {
  readonly dim: number;
  private readonly maxPieces: number;

  private constructor(
    readonly metadata: EncoderMetadata,
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: UnigramTokenizer,
    private readonly words: Buffer,
    private readonly positions: Float32Array,
    private readonly tokenType: Float32Array,
    maxPositions: number,
  ) {
    this.dim = metadata.dim;
    this.maxPieces = maxPositions - 2;
  }

  /** A short id for model metadata and health output: model name and the first 12 hex of the ONNX sha256. */
  get id(): string {
    return encoderId(this.metadata);
  }

  static async load(opts: EncoderLoadOptions = {}): Promise<SentenceEncoder> {
    const dir = opts.dir ?? defaultEncoderDir();
    const metaFile = path.join(dir, ENCODER_METADATA_FILE);
    if (!existsSync(metaFile)) throw new EncoderUnavailable(`no encoder in ${dir} (run bash scripts/setup.sh)`);
    const parsed = EncoderMetadataSchema.safeParse(JSON.parse(readFileSync(metaFile, 'utf8')));
    if (!parsed.success) throw new EncoderUnavailable(`${metaFile}: ${parsed.error.message}`);
    const meta = parsed.data;
    const onnxFile = path.join(dir, meta.onnx.file);
    if (!existsSync(meta.source.file) || !existsSync(onnxFile)) throw new EncoderUnavailable(`encoder files missing (${meta.source.file}, ${onnxFile}); run bash scripts/setup.sh`);
    const sourceBytes = readFileSync(meta.source.file);
    if (sha256(sourceBytes) !== meta.source.sha256) throw new EncoderUnavailable(`${meta.source.file}: sha256 differs from the pinned weights`);
    const graph = readFileSync(onnxFile);
    if (sha256(graph) !== meta.onnx.sha256) throw new EncoderUnavailable(`${onnxFile}: sha256 differs from ${metaFile}`);
    const file = new E5File(sourceBytes);
    const session = await ort.InferenceSession.create(graph, {
      intraOpNumThreads: opts.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const { hidden, maxPositions } = file.shape;
    const encoder = new SentenceEncoder(
      meta,
      session,
      new UnigramTokenizer(file.vocabulary),
      Buffer.from(file.q4Bytes('emb.word')), // a copy: the rest of the file can be freed
      file.float('emb.pos'),
      file.float('emb.type').subarray(0, hidden),
      maxPositions,
    );
    const [probe] = await encoder.embed(['probe'], 'query');
    if (probe.length !== hidden || !probe.every(Number.isFinite)) throw new EncoderUnavailable('encoder probe returned a malformed vector');
    return encoder;
  }

  /** Piece count the model sees for `text` (with the prefix, `<s>` and `</s>`), before windowing. */
  tokenCount(text: string, kind: EmbedKind): number {
    return this.tokenizer.encode(PREFIX[kind] + text).length + 2;
  }

  pieces(text: string): string[] {
    return this.tokenizer.encode(text).map((id) => this.tokenizer.piece(id));
  }

  /** L2-normalised sentence embeddings, one per text, in order. */
  async embed(texts: readonly string[], kind: EmbedKind): Promise<Float32Array[]> {
    const windows: Array<{ text: number; ids: number[] }> = [];
    texts.forEach((t, text) => {
      const ids = this.tokenizer.encode(PREFIX[kind] + t);
      for (let a = 0; a === 0 || a < ids.length; a += this.maxPieces) windows.push({ text, ids: ids.slice(a, a + this.maxPieces) });
    });
    const pooled = await this.run(windows.map((w) => [this.tokenizer.bos, ...w.ids, this.tokenizer.eos]));
    const H = this.dim;
    const out = texts.map(() => new Float32Array(H));
    windows.forEach((w, i) => {
      const weight = Math.max(1, w.ids.length);
      const v = out[w.text];
      for (let d = 0; d < H; d++) v[d] += weight * pooled[i * H + d];
    });
    for (const v of out) {
      let norm = 0;
      for (let d = 0; d < H; d++) norm += v[d] * v[d];
      const inv = 1 / Math.sqrt(Math.max(norm, 1e-24));
      for (let d = 0; d < H; d++) v[d] *= inv;
    }
    return out;
  }

  /** Pooled (unnormalised) vectors of token sequences, as one padded batch. */
  private async run(sequences: number[][]): Promise<Float32Array> {
    const H = this.dim;
    const B = sequences.length;
    const T = Math.max(...sequences.map((s) => s.length));
    const embeds = new Float32Array(B * T * H);
    const mask = new Float32Array(B * T);
    const row = new Float32Array(H);
    sequences.forEach((seq, b) => {
      seq.forEach((id, t) => {
        dequantiseRow(this.words, id, H, row);
        const at = (b * T + t) * H;
        for (let d = 0; d < H; d++) embeds[at + d] = row[d] + this.positions[t * H + d] + this.tokenType[d];
        mask[b * T + t] = 1;
      });
    });
    const result = await this.session.run({
      [ENCODER_INPUTS.embeds]: new ort.Tensor('float32', embeds, [B, T, H]),
      [ENCODER_INPUTS.mask]: new ort.Tensor('float32', mask, [B, T]),
    });
    const pooled = result[ENCODER_OUTPUT].data;
    if (!(pooled instanceof Float32Array)) throw new Error('encoder graph returned a non-float output');
    return pooled;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
