/**
 * Sentence embeddings of many texts for training and evaluation, kept on disk so retraining does not encode
 * the corpus again: `<encoder dir>/cache/<encoder id>-<kind>.bin`, records of
 * [u32 byte length][UTF-8 text][dim × float32], appended as new texts are encoded. A file of another encoder
 * build has another name, so a cached vector always comes from the encoder that is loaded.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { defaultEncoderDir, type EmbedKind, type Embedder } from './encoder';

const BATCH = 32;

function readCache(file: string, dim: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  if (!existsSync(file)) return out;
  const buf = readFileSync(file);
  let o = 0;
  while (o + 4 <= buf.length) {
    const n = buf.readUInt32LE(o);
    if (o + 4 + n + dim * 4 > buf.length) break; // a torn last record (killed while appending) is re-encoded
    const text = buf.toString('utf8', o + 4, o + 4 + n);
    const v = new Float32Array(dim);
    for (let d = 0; d < dim; d++) v[d] = buf.readFloatLE(o + 4 + n + d * 4);
    out.set(text, v);
    o += 4 + n + dim * 4;
  }
  return out;
}

function record(text: string, v: Float32Array): Buffer {
  const t = Buffer.from(text, 'utf8');
  const buf = Buffer.alloc(4 + t.length + v.length * 4);
  buf.writeUInt32LE(t.length, 0);
  t.copy(buf, 4);
  for (let d = 0; d < v.length; d++) buf.writeFloatLE(v[d], 4 + t.length + d * 4);
  return buf;
}

/** Embeddings of `texts` (deduplicated), from the cache or encoded in length-sorted batches. */
export async function embedAll(
  encoder: Embedder,
  texts: readonly string[],
  kind: EmbedKind,
  log: (msg: string) => void = () => undefined,
): Promise<Map<string, Float32Array>> {
  const dir = path.join(defaultEncoderDir(), 'cache');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${encoder.id.replace(/[^\w.-]/g, '_')}-${kind}.bin`);
  const cache = readCache(file, encoder.dim);
  const missing = [...new Set(texts)].filter((t) => !cache.has(t)).sort((a, b) => a.length - b.length);
  if (missing.length > 0) {
    const t0 = performance.now();
    for (let i = 0; i < missing.length; i += BATCH) {
      const batch = missing.slice(i, i + BATCH);
      const vectors = await encoder.embed(batch, kind);
      appendFileSync(file, Buffer.concat(batch.map((t, j) => record(t, vectors[j]))));
      batch.forEach((t, j) => cache.set(t, vectors[j]));
    }
    log(`[encoder] embedded ${missing.length} new texts in ${((performance.now() - t0) / 1000).toFixed(1)} s (cache: ${path.relative(process.cwd(), file)})`);
  }
  return cache;
}
