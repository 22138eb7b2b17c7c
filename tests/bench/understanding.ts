/**
 * How well the bot understands users, scored the way the chart acts on it: the held-out split of a
 * labelled JSONL file (default models/corpus/intent.jsonl, hand-written lines that neither the models
 * nor the knowledge content were built from), through the same `understand` activity the workers run.
 *
 *   npm run eval:understanding [-- file.jsonl]
 *   npm run eval:understanding -- --choose     # the training figures the semantic retrieval constants were chosen on
 *
 * Also scores models/corpus/ambiguous.jsonl: vague messages with the topics each could mean, where the bot should ask,
 * and knowledge retrieval alone — BM25, and BM25 + semantic similarity when the sentence encoder is set up — on the
 * same lines, and the detail nodes on the follow-up turns of the dialogue corpus's test split.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { benchEncoder, committedUnderstanding } from './understanding-setup';
import chart from '../../machines/charts/conversation.chart.json';
import { answersDirectly } from '../../machines/conversation';
import { DETAIL_SEMANTIC, KnowledgeIndex, SEMANTIC } from '../../knowledge/retrieval';
import { sameTextForm, type KnowledgeEntry } from '../../knowledge/schema';
import { readContent } from '../../knowledge/store';
import { embedAll } from '../../models/encoder/embedding-cache';
import type { SentenceEncoder } from '../../models/encoder/encoder';

const AMBIGUOUS = path.join(__dirname, '../../models/corpus/ambiguous.jsonl');
const INTENTS = path.join(__dirname, '../../models/corpus/intent.jsonl');
const DIALOGUES = path.join(__dirname, '../../models/dialogues/dialogues.jsonl');
/** The thresholds of the committed chart (what `npm start` publishes). */
const { params } = chart;
/** The detail score understanding reports a detail from (DETAIL_FLOOR in activities/understand.ts). */
const DETAIL_FLOOR = 0.25;

type Line = { text: string; label: string; split?: string };
const readLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

async function main() {
  if (process.argv.includes('--choose')) return choose();
  const file = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? INTENTS;
  const lines = readLines(file).filter((l) => l.split === 'test');
  const { index, encoder, understand } = await committedUnderstanding();
  const vectors = encoder ? await embedAll(encoder, lines.map((l) => l.text), 'query', console.log) : undefined;

  const count = { topics: 0, answered: 0, answeredRight: 0, clarified: 0, clarifiedRight: 0, oos: 0, oosPolite: 0, oosAnswered: 0, metas: 0, metaRight: 0 };
  const retrievalOnly = { top1: 0, semanticTop1: 0 };
  for (const { text, label } of lines) {
    const u = await understand({ conversationId: 'eval', text, group: null });
    const [a] = u.candidates;
    const confident = answersDirectly(u.candidates, params);
    const offered = u.candidates.filter((c) => c.score >= params.candidateScore);
    if (label.startsWith('meta.')) {
      count.metas++;
      if (u.meta === label) count.metaRight++;
    } else if (label === 'oos') {
      count.oos++;
      if (u.intent?.name === 'oos' && !confident) count.oosPolite++;
      if (confident) count.oosAnswered++;
    } else {
      count.topics++;
      if (index.search(text, 1)[0]?.intent === label) retrievalOnly.top1++;
      if (vectors && index.search(text, 1, vectors.get(text))[0]?.intent === label) retrievalOnly.semanticTop1++;
      if (confident) {
        count.answered++;
        if (a.intent === label) count.answeredRight++;
      } else if (offered.length) {
        count.clarified++;
        if (offered.some((c) => c.intent === label)) count.clarifiedRight++;
      }
    }
  }
  // Vague messages that could mean several topics (models/corpus/ambiguous.jsonl): the bot should ask, or at
  // least answer one of the plausible topics.
  const vague = readFileSync(AMBIGUOUS, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string; candidates: string[] });
  const amb = { asked: 0, answeredPlausible: 0, answeredOther: 0 };
  for (const { text, candidates } of vague) {
    const u = await understand({ conversationId: 'eval', text, group: null });
    if (answersDirectly(u.candidates, params)) {
      if (candidates.includes(u.candidates[0].intent)) amb.answeredPlausible++;
      else amb.answeredOther++;
    } else amb.asked++;
  }
  const details = encoder ? await detailFollowups(index, encoder, 'test') : undefined;
  const c = count;
  console.log(`Understanding (intent model + knowledge retrieval + lexicon) on ${lines.length} held-out lines of ${path.relative(process.cwd(), file)}
  topic questions ${c.topics}:
    answered directly ${pct(c.answered, c.topics)}, of which the right topic ${pct(c.answeredRight, c.answered)}
    clarifying question ${pct(c.clarified, c.topics)}, right topic among the options ${pct(c.clarifiedRight, c.clarified)}
    menu ${pct(c.topics - c.answered - c.clarified, c.topics)}
    (knowledge retrieval alone, top-1: BM25 ${pct(retrievalOnly.top1, c.topics)}${
      vectors ? `, BM25 + semantic ${pct(retrievalOnly.semanticTop1, c.topics)}` : ' (no sentence encoder: no semantic figure)'
    })
  out-of-scope lines ${c.oos}: told politely it is out of scope ${pct(c.oosPolite, c.oos)}, wrongly answered ${pct(c.oosAnswered, c.oos)}
  conversational acts ${c.metas}: recognised ${pct(c.metaRight, c.metas)}
Ambiguous messages ${vague.length} (${path.relative(process.cwd(), AMBIGUOUS)}): asked which topic is meant (or menu) ${pct(amb.asked, vague.length)}, \
answered one of the plausible topics ${pct(amb.answeredPlausible, vague.length)}, answered another topic ${pct(amb.answeredOther, vague.length)}`);
  if (details) console.log(details);
}

const pct = (n: number, d: number) => `${((100 * n) / Math.max(1, d)).toFixed(1)}%`;

/**
 * Detail nodes on the dialogue corpus (no node labels there): how often a follow-up question inside the topic finds a
 * node at the level understanding reports one, and how often the topic's other turns (acts, statements, switches) do.
 */
async function detailFollowups(index: KnowledgeIndex, encoder: SentenceEncoder, split: 'train' | 'test'): Promise<string> {
  type Turn = { text: string; label: { topic: string | null; followup: boolean } };
  const turns = readFileSync(DIALOGUES, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { split: string; turns: Turn[] })
    .filter((d) => d.split === split)
    .flatMap((d) => d.turns.slice(1).map((t, i) => ({ ...t, topic: d.turns[i].label.topic })))
    .filter((t): t is Turn & { topic: string } => !!t.topic && !!index.entry(t.topic));
  const vectors = await embedAll(encoder, turns.map((t) => t.text), 'query');
  const found = (t: { text: string; topic: string }, semantic: boolean) =>
    (index.searchDetails(t.topic, t.text, semantic ? vectors.get(t.text) : undefined)?.score ?? 0) >= DETAIL_FLOOR;
  const rate = (ts: typeof turns, semantic: boolean) => pct(ts.filter((t) => found(t, semantic)).length, ts.length);
  const followups = turns.filter((t) => t.label.followup);
  const others = turns.filter((t) => !t.label.followup);
  return `Detail nodes on the ${split} split of ${path.relative(process.cwd(), DIALOGUES)} (a node scoring ≥ ${DETAIL_FLOOR}), BM25 → BM25 + semantic:
  follow-up questions ${followups.length}: ${rate(followups, false)} → ${rate(followups, true)}
  the topic's other turns ${others.length} (acts, statements, switches; lower is better): ${rate(others, false)} → ${rate(others, true)}`;
}

/** Per row, each candidate's BM25 score and best cosine, and the right candidate. */
interface ScoredRow {
  label: string;
  bm25: Map<string, number>;
  cos: Map<string, number>;
}

const quantile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))];
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const bestCos = (v: Float32Array, texts: string[], table: Map<string, Float32Array>) => Math.max(...texts.map((t) => dot(v, table.get(t)!)));

function evaluate(rows: ScoredRow[], m: { lo: number; hi: number; weight: number }) {
  let right = 0;
  let noise = 0;
  for (const r of rows) {
    const scored = [...r.cos.keys()]
      .map((id) => {
        const semantic = Math.min(1, Math.max(0, (r.cos.get(id)! - m.lo) / (m.hi - m.lo)));
        return { id, score: 1 - (1 - (r.bm25.get(id) ?? 0)) * (1 - m.weight * semantic) };
      })
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
    if (scored[0].score > 0 && scored[0].id === r.label) right++;
    noise += scored.filter((s) => s.id !== r.label && s.score >= 0.2).length;
  }
  return { top1: right / rows.length, noise: noise / rows.length };
}

/** lo/hi from the training cosines, the weight by training top-1 (see SEMANTIC in knowledge/retrieval.ts). */
function chooseMapping(name: string, rows: ScoredRow[], committed: { lo: number; hi: number; weight: number }) {
  const wrong = rows.flatMap((r) => [...r.cos].filter(([id]) => id !== r.label).map(([, c]) => c));
  const right = rows.map((r) => r.cos.get(r.label)!);
  const lo = Math.round(quantile(wrong, 0.95) * 100) / 100;
  const hi = Math.round(quantile(right, 0.95) * 100) / 100;
  const f = (m: { lo: number; hi: number; weight: number }) => {
    const { top1, noise } = evaluate(rows, m);
    return `top-1 ${pct(top1, 1)}, wrong candidates ≥ 0.2 per message ${noise.toFixed(2)}`;
  };
  console.log(`${name}: ${rows.length} training rows; cosine to a wrong one p95 ${quantile(wrong, 0.95).toFixed(3)}, to the right one p95 ${quantile(right, 0.95).toFixed(3)} → lo ${lo}, hi ${hi}`);
  console.log(`  BM25 alone: ${f({ lo: 0, hi: 1, weight: 0 })}`);
  let best = { weight: 0, top1: -1 };
  for (const weight of [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]) {
    const { top1 } = evaluate(rows, { lo, hi, weight });
    console.log(`  weight ${weight}: ${f({ lo, hi, weight })}`);
    if (top1 > best.top1 + 1e-9) best = { weight, top1 };
  }
  let grid = { lo: 0, hi: 0, weight: 0, top1: -1 };
  for (let l = 0.86; l <= 0.945; l += 0.01)
    for (let h = l + 0.03; h <= 1.0001; h += 0.01)
      for (const weight of [0.5, 0.7, 1]) {
        const { top1 } = evaluate(rows, { lo: l, hi: h, weight });
        if (top1 > grid.top1) grid = { lo: Math.round(l * 100) / 100, hi: Math.round(h * 100) / 100, weight, top1 };
      }
  console.log(`  chosen: lo ${lo}, hi ${hi}, weight ${best.weight}; committed: lo ${committed.lo}, hi ${committed.hi}, weight ${committed.weight} (${f(committed)})`);
  console.log(`  for comparison, the best of a lo × hi × weight grid: lo ${grid.lo}, hi ${grid.hi}, weight ${grid.weight} (${f(grid)})`);
}

/** The training figures SEMANTIC and DETAIL_SEMANTIC were chosen on; no test line is read. */
async function choose() {
  const encoder = await benchEncoder();
  if (!encoder) throw new Error('the sentence encoder is not set up');
  const { entries, lexicon } = readContent();
  const index = new KnowledgeIndex(entries, lexicon);
  const questions = new Set(entries.flatMap((e) => e.questions.map(sameTextForm)));
  // Entries: the train lines of intent.jsonl whose label is a knowledge entry, less those equal to one of its questions.
  const train = readLines(INTENTS).filter((l) => l.split === 'train' && index.entry(l.label) && !questions.has(sameTextForm(l.text)));
  const table = await embedAll(encoder, [...index.phrasings(), ...train.map((l) => l.text)], 'query', console.log);
  chooseMapping(
    'Entries (intent.jsonl train split)',
    train.map((l) => ({
      label: l.label,
      bm25: new Map(index.search(l.text, entries.length).map((c) => [c.intent, c.score])),
      cos: new Map(entries.map((e) => [e.intent, bestCos(table.get(l.text)!, e.questions, table)])),
    })),
    SEMANTIC,
  );
  // Detail nodes: each phrasing of a node asked of its topic, with that phrasing left out of the index.
  const rows: ScoredRow[] = [];
  for (const entry of entries) {
    for (const node of entry.details) {
      for (const text of [node.question, ...node.examples]) {
        const without: KnowledgeEntry = {
          ...entry,
          details: entry.details.map((d) => {
            if (d !== node) return d;
            const rest = [d.question, ...d.examples].filter((t) => t !== text);
            return { ...d, question: rest[0], examples: rest.slice(1) };
          }),
        };
        const small = new KnowledgeIndex([without], lexicon);
        rows.push({
          label: node.id,
          bm25: new Map(small.detailScores(entry.intent, text).map((s) => [s.detail.id, s.score])),
          cos: new Map(without.details.map((d) => [d.id, bestCos(table.get(text)!, [d.question, ...d.examples], table)])),
        });
      }
    }
  }
  chooseMapping('Detail nodes (leave-one-out over the content)', rows, DETAIL_SEMANTIC);
  index.attachEmbeddings(table, encoder.id);
  console.log(`with the committed DETAIL_SEMANTIC — ${await detailFollowups(index, encoder, 'train')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
