/**
 * How well knowledge retrieval alone understands users: the held-out split of models/corpus/intent.jsonl
 * (hand-written lines the knowledge content never saw), scored the way the chart uses it.
 *
 *   npm run eval:retrieval
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CANDIDATE_SCORE, CONFIDENT_MARGIN, CONFIDENT_SCORE } from '../../machines/conversation';
import { KnowledgeIndex } from '../../knowledge/retrieval';
import { readContent } from '../../knowledge/store';

const file = process.argv[2] ?? path.join(__dirname, '../../models/corpus/intent.jsonl');
const lines = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { text: string; label: string; split?: string })
  .filter((l) => l.split === 'test');

const { entries, lexicon } = readContent();
const index = new KnowledgeIndex(entries, lexicon);
const known = new Set(entries.map((e) => e.intent));

let topics = 0, top1 = 0, top3 = 0, answered = 0, answeredRight = 0, clarified = 0, clarifiedHasRight = 0;
let oos = 0, oosAnswered = 0;
let metas = 0, metaRight = 0;
const t0 = performance.now();
for (const { text, label } of lines) {
  const cands = index.search(text, 3);
  const [a, b] = cands;
  const confident = !!a && a.score >= CONFIDENT_SCORE && a.score - (b?.score ?? 0) >= CONFIDENT_MARGIN;
  const offered = cands.filter((c) => c.score >= CANDIDATE_SCORE);
  if (label.startsWith('meta.')) {
    metas++;
    if (index.detectMeta(text)?.intent === label) metaRight++;
  } else if (label === 'oos') {
    oos++;
    if (confident) oosAnswered++;
  } else if (known.has(label)) {
    topics++;
    if (a?.intent === label) top1++;
    if (cands.some((c) => c.intent === label)) top3++;
    if (confident) {
      answered++;
      if (a.intent === label) answeredRight++;
    } else if (offered.length) {
      clarified++;
      if (offered.some((c) => c.intent === label)) clarifiedHasRight++;
    }
  }
}
const ms = (performance.now() - t0) / lines.length;
const pct = (n: number, d: number) => `${((100 * n) / Math.max(1, d)).toFixed(1)}%`;
console.log(`Knowledge-retrieval understanding on ${lines.length} held-out lines (${path.relative(process.cwd(), file)})
  topic questions ${topics}: top-1 ${pct(top1, topics)}, in top-3 ${pct(top3, topics)}
    answered directly ${pct(answered, topics)} (right ${pct(answeredRight, answered)}), clarified ${pct(clarified, topics)} (right one offered ${pct(clarifiedHasRight, clarified)}), menu ${pct(topics - answered - clarified, topics)}
  out-of-scope lines ${oos}: wrongly answered ${pct(oosAnswered, oos)}
  conversational acts ${metas}: recognised ${pct(metaRight, metas)}
  ${ms.toFixed(3)} ms per message`);
