/** Okapi BM25 over pre-tokenised documents. */
export class Bm25Index {
  private readonly postings = new Map<string, Array<[doc: number, tf: number]>>();
  private readonly lengths: number[] = [];
  private avgLength = 0;

  constructor(private readonly k1 = 1.2, private readonly b = 0.6) {}

  add(terms: string[]): number {
    const doc = this.lengths.length;
    this.lengths.push(terms.length);
    const tf = new Map<string, number>();
    for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [t, n] of tf) {
      let list = this.postings.get(t);
      if (!list) this.postings.set(t, (list = []));
      list.push([doc, n]);
    }
    this.avgLength = this.lengths.reduce((a, b) => a + b, 0) / this.lengths.length;
    return doc;
  }

  get size(): number {
    return this.lengths.length;
  }

  private idf(term: string): number {
    const n = this.lengths.length;
    const df = this.postings.get(term)?.length ?? 0;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** The score the query would get against a document equal to itself: the scale for normalising. */
  selfScore(query: string[]): number {
    const tf = new Map<string, number>();
    for (const t of query) tf.set(t, (tf.get(t) ?? 0) + 1);
    const norm = this.k1 * (1 - this.b + (this.b * query.length) / (this.avgLength || 1));
    let total = 0;
    for (const [t, n] of tf) total += (this.idf(t) * n * (this.k1 + 1)) / (n + norm);
    return total;
  }

  /** Scores of every document that shares a term with the query. */
  score(query: string[]): Map<number, number> {
    const scores = new Map<number, number>();
    for (const t of new Set(query)) {
      const list = this.postings.get(t);
      if (!list) continue;
      const idf = this.idf(t);
      for (const [doc, tf] of list) {
        const norm = tf + this.k1 * (1 - this.b + (this.b * this.lengths[doc]) / this.avgLength);
        scores.set(doc, (scores.get(doc) ?? 0) + (idf * tf * (this.k1 + 1)) / norm);
      }
    }
    return scores;
  }
}
