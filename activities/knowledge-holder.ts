import type { DataSource } from 'typeorm';
import type { KnowledgeIndex } from '../knowledge/retrieval';
import { loadKnowledgeIndex } from '../knowledge/store';
import { embedAll } from '../models/encoder/embedding-cache';
import type { Embedder } from '../models/encoder/encoder';

/** The sentence encoder, when the worker has one (a function, so an encoder that loads later is picked up). */
export type EncoderSource = () => Embedder | undefined | Promise<Embedder | undefined>;

/**
 * The worker's current knowledge index. Rebuilt when the stored entries change (the worker checks every CS_REFRESH_MS), so edits
 * reach every worker without a restart; a failed refresh keeps serving the last good index.
 *
 * With an encoder, every (re)built index gets the sentence embeddings of its phrasings for semantic retrieval. The
 * BM25 index serves at once; the vectors are attached when ready (instant from the embedding cache, about a minute
 * on 2 cores the very first time), and a refresh embeds only the phrasings the previous index did not have.
 */
export class KnowledgeHolder {
  private index: KnowledgeIndex | undefined;
  /** The attach runs one after another; this is the last one. */
  private attaching: Promise<boolean> = Promise.resolve(false);
  /** Phrasing → vector, of the encoder `vectorsOf`, for the phrasings of the last index that got vectors. */
  private vectors = new Map<string, Float32Array>();
  private vectorsOf: string | undefined;
  /** The last attempt found no encoder: try again on the next refresh tick. */
  private noEncoder = false;

  constructor(
    private readonly ds: DataSource,
    private readonly encoder?: EncoderSource,
    private readonly log: { info(msg: string): void; warn(msg: string): void } = console,
  ) {}

  /** Build the index from the database (BM25 at once) and start attaching its vectors. */
  async load(): Promise<KnowledgeIndex> {
    const index = await loadKnowledgeIndex(this.ds);
    this.index = index;
    this.attachVectors(index);
    return index;
  }

  /** The index, or an error that makes the chart take its menu fallback. */
  current(): KnowledgeIndex {
    if (!this.index) throw new Error('knowledge index is not loaded');
    return this.index;
  }

  /** Resolves when the vectors of the current index are attached (true) or will not be (false: no encoder, or failed). */
  semanticReady(): Promise<boolean> {
    return this.attaching;
  }

  async refreshIfChanged(): Promise<boolean> {
    const [{ version }] = await this.ds.query('SELECT COALESCE(SUM(version), 0)::int AS version FROM knowledge_entries');
    if (this.index && this.index.version === version) {
      if (this.noEncoder) this.attachVectors(this.index); // the encoder may have loaded since
      return false;
    }
    await this.load();
    return true;
  }

  private attachVectors(index: KnowledgeIndex): void {
    if (!this.encoder) return;
    this.noEncoder = false;
    this.attaching = this.attaching.then(() => this.attach(index));
  }

  private async attach(index: KnowledgeIndex): Promise<boolean> {
    if (index !== this.index) return false; // superseded by a newer index while waiting
    try {
      const encoder = await this.encoder!();
      if (!encoder) {
        this.noEncoder = true;
        return false;
      }
      const started = performance.now();
      if (this.vectorsOf !== encoder.id) this.vectors = new Map();
      const texts = index.phrasings();
      const missing = texts.filter((t) => !this.vectors.has(t));
      const fresh = missing.length ? await embedAll(encoder, missing, 'query', (msg) => this.log.info(msg)) : new Map<string, Float32Array>();
      const vectors = new Map(texts.map((t) => [t, this.vectors.get(t) ?? fresh.get(t)!]));
      index.attachEmbeddings(vectors, encoder.id);
      this.vectors = vectors; // phrasings no longer in the knowledge are dropped
      this.vectorsOf = encoder.id;
      const ms = Math.round(performance.now() - started);
      this.log.info(`[knowledge] semantic retrieval ready: ${texts.length} phrasings (${missing.length} looked up or embedded, ${ms} ms, ${encoder.id})`);
      return true;
    } catch (err) {
      this.log.warn(`[knowledge] semantic retrieval not available, BM25 alone: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }
}
