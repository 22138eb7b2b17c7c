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
 * In-memory retrieval over the knowledge graph: BM25 over each entry's example questions
 * and over its title + keywords, normalised by the query's self-score into 0..1.
 */
export class KnowledgeIndex {
  private readonly questions = new Bm25Index();
  private readonly keywords = new Bm25Index();
  private readonly questionOwner: number[] = [];
  private readonly byIntent = new Map<string, KnowledgeEntry>();
  /** Per topic: BM25 over its detail nodes' question + examples, one document per phrasing. */
  private readonly detailIndexes = new Map<string, { index: Bm25Index; owner: KnowledgeDetail[]; selfScores: number[] }>();

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

  /** Best entries for the text, highest score first; scores are 0..1. */
  search(text: string, limit = 3): Candidate[] {
    const terms = tokenize(text);
    if (terms.length === 0) return [];
    const scale = Math.max(MIN_SCALE, this.questions.selfScore(terms));
    const best = new Map<number, number>();
    for (const [doc, s] of this.questions.score(terms)) {
      const owner = this.questionOwner[doc];
      best.set(owner, Math.max(best.get(owner) ?? 0, s));
    }
    for (const [doc, s] of this.keywords.score(terms)) best.set(doc, (best.get(doc) ?? 0) + KEYWORD_WEIGHT * s);
    return [...best]
      .map(([i, s]) => {
        const e = this.entries[i];
        return { intent: e.intent, title: e.title, menuLabel: e.menuLabel, score: round(Math.min(1, s / scale)) };
      })
      .sort((a, b) => b.score - a.score || a.intent.localeCompare(b.intent))
      .slice(0, limit);
  }

  /**
   * The topic's detail node (a follow-up question inside it) that best matches the text, scored 0..1 like
   * `search` (BM25 normalised by the query's self-score), or undefined when none shares a word.
   */
  searchDetails(intent: string, text: string): { detail: KnowledgeDetail; score: number } | undefined {
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

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
