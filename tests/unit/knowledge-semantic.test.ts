import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnowledgeIndex } from '../../knowledge/retrieval';
import { readContent } from '../../knowledge/store';
import { tokenize } from '../../knowledge/tokenize';
import { embedAll } from '../../models/encoder/embedding-cache';
import { SentenceEncoder } from '../../models/encoder/encoder';

const { entries, lexicon } = readContent();
/** Today's retrieval: BM25 only, no vectors. */
const bm25 = new KnowledgeIndex(entries, lexicon);
/** The same knowledge with the real encoder's vectors attached. */
const semantic = new KnowledgeIndex(entries, lexicon);

/** Messages of every kind: the corpus's test lines (topics, acts, out of scope) and each detail's question. */
const messages = [
  ...readFileSync(path.join(__dirname, '../../models/corpus/intent.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { text: string; split: string })
    .filter((l) => l.split === 'test')
    .map((l) => l.text),
  ...entries.flatMap((e) => e.details.map((d) => d.question)),
];

describe('knowledge retrieval with sentence embeddings (multilingual-e5-small)', () => {
  let encoder: SentenceEncoder;
  let vectors: Map<string, Float32Array>;
  const embed = async (text: string) => (await encoder.embed([text], 'query'))[0];

  beforeAll(async () => {
    encoder = await SentenceEncoder.load();
    vectors = await embedAll(encoder, [...semantic.phrasings(), ...messages], 'query');
    semantic.attachEmbeddings(vectors, encoder.id);
  });
  afterAll(() => encoder.release());

  it('attaches a vector to every entry question and detail phrasing', () => {
    expect(bm25.semanticModel).toBeUndefined();
    expect(semantic.semanticModel).toBe(encoder.id);
    const phrasings = semantic.phrasings();
    for (const e of entries) {
      for (const q of e.questions) expect(phrasings).toContain(q);
      for (const d of e.details) for (const x of [d.question, ...d.examples]) expect(phrasings).toContain(x);
    }
  });

  it('finds a logistics question worded with none of the entry’s words, which BM25 misses', async () => {
    const text = '邮寄的东西走了一周也没见着';
    const logistics = bm25.entry('order.logistics')!;
    const vocabulary = new Set([...logistics.questions, logistics.title, ...logistics.keywords].flatMap(tokenize));
    expect(tokenize(text).filter((t) => vocabulary.has(t))).toEqual([]);
    expect(bm25.search(text, entries.length).map((c) => c.intent)).not.toContain('order.logistics');
    expect(semantic.search(text, entries.length).map((c) => c.intent)).not.toContain('order.logistics'); // no embedding given
    const [top] = semantic.search(text, 3, await embed(text));
    expect(top.intent).toBe('order.logistics');
    expect(top.score).toBeGreaterThan(0.3);
  });

  it('finds a follow-up detail that BM25 scores too low to report', async () => {
    const text = '直播得掏钱吗'; // inside "how do I get live permission": does going live cost money?
    const lexical = bm25.searchDetails('live.permission', text);
    expect(lexical?.score ?? 0).toBeLessThan(0.25); // understanding reports details from 0.25
    const found = semantic.searchDetails('live.permission', text, await embed(text));
    expect(found?.detail.id).toBe('fee');
    expect(found!.score).toBeGreaterThan(0.5);
  });

  it('without an embedding gives exactly today’s results, with or without vectors attached', () => {
    for (const text of messages) {
      expect(semantic.search(text, 6), text).toEqual(bm25.search(text, 6));
      for (const topic of ['order.logistics', 'pay.minor_refund', 'account.ban_appeal']) {
        expect(semantic.searchDetails(topic, text), text).toEqual(bm25.searchDetails(topic, text));
      }
    }
  });

  it('ignores an embedding while no vectors are attached', () => {
    for (const text of messages.slice(0, 100)) {
      expect(bm25.search(text, 6, vectors.get(text)), text).toEqual(bm25.search(text, 6));
      expect(bm25.searchDetails('order.logistics', text, vectors.get(text)), text).toEqual(bm25.searchDetails('order.logistics', text));
    }
  });

  it('keeps an entry BM25 ranks first with a high score on top when the semantics agree, never scoring it lower', () => {
    let checked = 0;
    for (const e of entries) {
      for (const q of e.questions) {
        const [lexical] = bm25.search(q, 1);
        if (lexical?.intent !== e.intent || lexical.score < 0.5) continue;
        const [top] = semantic.search(q, 1, vectors.get(q));
        expect(top.intent, q).toBe(e.intent);
        expect(top.score, q).toBeGreaterThanOrEqual(lexical.score);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(400);
  });

  it('only raises scores: every entry and node scores at least its BM25 score', () => {
    for (const text of messages.slice(0, 200)) {
      const v = vectors.get(text)!;
      const joined = new Map(semantic.search(text, entries.length, v).map((c) => [c.intent, c.score]));
      for (const c of bm25.search(text, entries.length)) expect(joined.get(c.intent), text).toBeGreaterThanOrEqual(c.score);
      const nodes = new Map(semantic.detailScores('order.return_refund', text, v).map((s) => [s.detail.id, s.score]));
      for (const s of bm25.detailScores('order.return_refund', text)) expect(nodes.get(s.detail.id), text).toBeGreaterThanOrEqual(s.score);
    }
  });

  it('refuses vectors that do not cover the knowledge, and an embedding of another size', async () => {
    const partial = new Map([...vectors].filter(([t]) => t !== entries[0].questions[0]));
    const index = new KnowledgeIndex(entries, lexicon);
    expect(() => index.attachEmbeddings(partial, encoder.id)).toThrow(/no embedding for 1 knowledge phrasings/);
    expect(index.semanticModel).toBeUndefined();
    expect(() => semantic.search('快递到哪了', 3, new Float32Array(10))).toThrow(/10 dimensions/);
  });

  it('returns nothing for a message without words, embedding or not', async () => {
    expect(semantic.search('？？？！', 3, await embed('？？？！'))).toEqual([]);
    expect(semantic.searchDetails('order.logistics', '？？？！', await embed('？？？！'))).toBeUndefined();
  });
});
