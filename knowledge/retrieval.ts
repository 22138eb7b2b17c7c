import { Bm25Index } from './bm25';
import type { Candidate, KnowledgeDetail, KnowledgeEntry, MetaLexicon } from './schema';
import { normalize, tokenize } from './tokenize';

/** How much the title + keywords document adds to the best matching example question. */
const KEYWORD_WEIGHT = 0.5;
/**
 * Floor of the normalising scale (about the self-score of a two-word question), so that a
 * one-word message such as "钱" matches weakly instead of perfectly.
 */
const MIN_SCALE = 20;
/** The same floor for a topic's small detail index, whose terms have lower idf. */
const DETAIL_MIN_SCALE = 4;

/**
 * Semantic similarity beside BM25. An entry's (a detail node's) semantic score is the best cosine between the
 * message's sentence embedding and the embeddings of its questions (its question + examples), mapped to 0..1 by
 * clamp((cos − lo) / (hi − lo)), and joined with the BM25 score as the project joins signals, by noisy-OR:
 * 1 − (1 − bm25)·(1 − weight·semantic). An entry found only semantically still appears.
 *
 * Chosen with multilingual-e5-small 'query' embeddings on training data only (`npm run eval:understanding -- --choose`
 * prints these figures): lo = the 95th percentile of the best cosine to a WRONG entry's (node's) phrasings, hi = the
 * 95th percentile of the best cosine to the RIGHT one's, so an unrelated entry gets 0 in 19 of 20 cases and a
 * near-copy gets 1; the weight is the one of 0.3…1 with the best training top-1.
 *
 * Entries, on the 3,406 topic lines of `"split": "train"` in models/corpus/intent.jsonl (less the 18 equal to a
 * knowledge question): wrong-entry cosine p95 0.912, right-entry p95 0.979; top-1 81.6 % with BM25 alone → 88.3 %
 * at weight 1 (86.8 % at 0.5). A lo × hi × weight grid's best, 89.5 % (lo 0.86, hi 0.98), was not taken: it gives
 * a message 16.9 wrong entries scoring ≥ 0.2 on average instead of 2.1 (BM25 alone 1.5), noise the chart would see.
 */
export const SEMANTIC = { lo: 0.91, hi: 0.98, weight: 1 } as const;
/**
 * Detail nodes, leave-one-out over the 1,370 phrasings of the content's detail nodes (each phrasing asked of its
 * topic with itself left out): wrong-node cosine p95 0.933, right-node p95 0.968; top-1 58.1 % with BM25 alone →
 * 63.7 % at weight 0.9 (63.4–63.7 % for 0.4–1). On the dialogue corpus's train split, a follow-up question finds a
 * node scoring ≥ 0.25 (the level understanding reports a detail at) 55.2 % → 65.5 % of the time, the topic's other
 * turns 9.7 % → 14.2 %. A lower lo finds more follow-ups but pins more topic switches to the old topic.
 */
export const DETAIL_SEMANTIC = { lo: 0.93, hi: 0.97, weight: 0.9 } as const;

/** Phrasing vectors of one entry's questions or one detail node, one row per phrasing. */
interface Rows {
  data: Float32Array;
  count: number;
}

/**
 * In-memory retrieval over the knowledge graph: BM25 over each entry's example questions
 * and over its title + keywords, normalised by the query's self-score into 0..1; with sentence embeddings
 * attached (`attachEmbeddings`) and the message's embedding given, also semantic similarity (see SEMANTIC).
 */
export class KnowledgeIndex {
  private readonly questions = new Bm25Index();
  private readonly keywords = new Bm25Index();
  private readonly questionOwner: number[] = [];
  private readonly byIntent = new Map<string, KnowledgeEntry>();
  /** Per topic: BM25 over its detail nodes' question + examples, one document per phrasing. */
  private readonly detailIndexes = new Map<string, { index: Bm25Index; owner: KnowledgeDetail[]; selfScores: number[] }>();
  /** Attached sentence embeddings: per entry its questions, per topic its detail nodes' phrasings. */
  private semantic: { model: string; dim: number; entries: Rows[]; details: Map<string, Rows[]> } | undefined;

  constructor(readonly entries: KnowledgeEntry[], private readonly lexicon: MetaLexicon, readonly version = 0) {
    entries.forEach((entry, i) => {
      this.byIntent.set(entry.intent, entry);
      for (const q of entry.questions) {
        this.questions.add(tokenize(q));
        this.questionOwner.push(i);
      }
      this.keywords.add(tokenize([entry.title, ...entry.keywords].join(' ')));
      const details = { index: new Bm25Index(), owner: [] as KnowledgeDetail[], selfScores: [] as number[] };
      const phrasings = entry.details.flatMap((d) => [d.question, ...d.examples].map((text) => ({ d, terms: tokenize(text) })));
      for (const { d, terms } of phrasings) {
        details.index.add(terms);
        details.owner.push(d);
      }
      details.selfScores = phrasings.map(({ terms }) => details.index.selfScore(terms)); // once every phrasing is in
      this.detailIndexes.set(entry.intent, details);
    });
  }

  entry(intent: string): KnowledgeEntry | undefined {
    return this.byIntent.get(intent);
  }

  /** Every text that has a vector in semantic retrieval: each entry's questions and each detail's question + examples. */
  phrasings(): string[] {
    const texts = this.entries.flatMap((e) => [...e.questions, ...e.details.flatMap((d) => [d.question, ...d.examples])]);
    return [...new Set(texts)];
  }

  /** The encoder whose vectors are attached (its `id`), or undefined while retrieval is BM25 only. */
  get semanticModel(): string | undefined {
    return this.semantic?.model;
  }

  /**
   * Attach the sentence embeddings ('query' kind, L2-normalised) of every phrasing (see `phrasings()`), made by the
   * encoder `model`; from then on `search` and `searchDetails` use a message embedding when one is given.
   * Throws, attaching nothing, when a phrasing has no vector or the vectors differ in length.
   */
  attachEmbeddings(vectors: ReadonlyMap<string, Float32Array>, model: string): this {
    const missing = this.phrasings().filter((t) => !vectors.has(t));
    if (missing.length) throw new Error(`no embedding for ${missing.length} knowledge phrasings, e.g. "${missing[0]}"`);
    const dim = vectors.get(this.entries[0]?.questions[0] ?? '')?.length ?? 0;
    const rows = (texts: string[]): Rows => {
      const data = new Float32Array(texts.length * dim);
      texts.forEach((t, i) => {
        const v = vectors.get(t)!;
        if (v.length !== dim) throw new Error(`embedding of "${t}" has ${v.length} dimensions, others ${dim}`);
        data.set(v, i * dim);
      });
      return { data, count: texts.length };
    };
    const entries = this.entries.map((e) => rows(e.questions));
    const details = new Map(this.entries.map((e) => [e.intent, e.details.map((d) => rows([d.question, ...d.examples]))]));
    this.semantic = { model, dim, entries, details };
    return this;
  }

  /**
   * Best entries for the text, highest score first; scores are 0..1. With the message's embedding (and attached
   * vectors) the BM25 score is joined with semantic similarity; without, the scores are BM25's alone.
   */
  search(text: string, limit = 3, embedding?: Float32Array): Candidate[] {
    const terms = tokenize(text);
    if (terms.length === 0) return [];
    const scale = Math.max(MIN_SCALE, this.questions.selfScore(terms));
    const best = new Map<number, number>();
    for (const [doc, s] of this.questions.score(terms)) {
      const owner = this.questionOwner[doc];
      best.set(owner, Math.max(best.get(owner) ?? 0, s));
    }
    for (const [doc, s] of this.keywords.score(terms)) best.set(doc, (best.get(doc) ?? 0) + KEYWORD_WEIGHT * s);
    const semantic = this.semanticScores(embedding, (sem) => sem.entries, SEMANTIC);
    const scored = semantic
      ? this.entries.map((_, i) => [i, noisyOr(Math.min(1, (best.get(i) ?? 0) / scale), SEMANTIC.weight * semantic[i])] as const).filter(([, s]) => s > 0)
      : [...best].map(([i, s]) => [i, Math.min(1, s / scale)] as const);
    return scored
      .map(([i, s]) => {
        const e = this.entries[i];
        return { intent: e.intent, title: e.title, menuLabel: e.menuLabel, score: round(s) };
      })
      .sort((a, b) => b.score - a.score || a.intent.localeCompare(b.intent))
      .slice(0, limit);
  }

  /**
   * The topic's detail node (a follow-up question inside it) that best matches the text, scored 0..1 like
   * `search` (BM25 normalised by the query's self-score), or undefined when none shares a word. With the
   * message's embedding (and attached vectors) each node's BM25 score is joined with semantic similarity, and a
   * node may match without sharing a word.
   */
  searchDetails(intent: string, text: string, embedding?: Float32Array): { detail: KnowledgeDetail; score: number } | undefined {
    if (embedding && this.semantic) {
      let top: { detail: KnowledgeDetail; score: number } | undefined;
      for (const node of this.detailScores(intent, text, embedding)) if (node.score > 0 && (!top || node.score > top.score)) top = node;
      return top;
    }
    const details = this.detailIndexes.get(intent);
    const terms = tokenize(text);
    if (!details || details.index.size === 0 || terms.length === 0) return undefined;
    // Normalised by the geometric mean of both self-scores (cosine-like): a follow-up often carries words of its
    // own ("他今年13") besides the phrasing it shares with a node, and phrasings are short.
    const queryScale = Math.max(DETAIL_MIN_SCALE, details.index.selfScore(terms));
    let best: { detail: KnowledgeDetail; score: number } | undefined;
    for (const [doc, s] of details.index.score(terms)) {
      const score = round(Math.min(1, s / Math.sqrt(queryScale * Math.max(DETAIL_MIN_SCALE, details.selfScores[doc]))));
      if (!best || score > best.score) best = { detail: details.owner[doc], score };
    }
    return best;
  }

  /**
   * Every detail node of the topic with its score for the text, in the entry's order: its best phrasing's BM25
   * score as in `searchDetails`, joined with semantic similarity when an embedding is given and vectors are attached.
   */
  detailScores(intent: string, text: string, embedding?: Float32Array): Array<{ detail: KnowledgeDetail; score: number }> {
    const entry = this.byIntent.get(intent);
    const details = this.detailIndexes.get(intent);
    const terms = tokenize(text);
    if (!entry || !details || terms.length === 0) return [];
    const queryScale = Math.max(DETAIL_MIN_SCALE, details.index.selfScore(terms));
    const lexical = new Map<KnowledgeDetail, number>();
    for (const [doc, s] of details.index.score(terms)) {
      const score = Math.min(1, s / Math.sqrt(queryScale * Math.max(DETAIL_MIN_SCALE, details.selfScores[doc])));
      lexical.set(details.owner[doc], Math.max(lexical.get(details.owner[doc]) ?? 0, score));
    }
    const semantic = this.semanticScores(embedding, (sem) => sem.details.get(intent) ?? [], DETAIL_SEMANTIC);
    return entry.details.map((detail, i) => ({
      detail,
      score: round(noisyOr(lexical.get(detail) ?? 0, semantic ? DETAIL_SEMANTIC.weight * semantic[i] : 0)),
    }));
  }

  /**
   * Per group of phrasings (an entry's questions, a topic's detail nodes), the best cosine to the message's
   * embedding mapped to 0..1; undefined without an embedding or without attached vectors.
   */
  private semanticScores(
    embedding: Float32Array | undefined,
    groupsOf: (sem: NonNullable<KnowledgeIndex['semantic']>) => Rows[],
    mapping: { lo: number; hi: number },
  ): number[] | undefined {
    const sem = this.semantic;
    if (!embedding || !sem) return undefined;
    if (embedding.length !== sem.dim) throw new Error(`message embedding has ${embedding.length} dimensions, the knowledge vectors ${sem.dim}`);
    return groupsOf(sem).map(({ data, count }) => {
      let best = -1;
      for (let r = 0; r < count; r++) {
        let dot = 0;
        for (let d = 0, o = r * sem.dim; d < sem.dim; d++) dot += embedding[d] * data[o + d];
        if (dot > best) best = dot;
      }
      return Math.min(1, Math.max(0, (best - mapping.lo) / (mapping.hi - mapping.lo)));
    });
  }

  /**
   * A conversational act (greeting, thanks, yes/no, human please…) carried by a short message.
   * `exact` when the whole message is the act; a partial match ("推广没效果") may also be a question.
   */
  detectMeta(text: string): { intent: string; exact: boolean } | undefined {
    const norm = normalize(text).replace(/\s+/g, '');
    if (!norm) return undefined;
    for (const [intent, { exact }] of Object.entries(this.lexicon)) if (exact.includes(norm)) return { intent, exact: true };
    for (const [intent, { contains }] of Object.entries(this.lexicon)) {
      if (contains.some((c) => norm.includes(c)) && (intent === 'meta.human' || norm.length <= 12)) return { intent, exact: false };
    }
    return undefined;
  }
}

/** Either of two 0..1 signals is enough; agreement raises the score. */
function noisyOr(a: number, b: number): number {
  return 1 - (1 - a) * (1 - b);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
