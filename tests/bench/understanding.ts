/**
 * How well the bot understands users, scored the way the chart acts on it: the held-out split of a
 * labelled JSONL file (default models/corpus/intent.jsonl, hand-written lines that neither the models
 * nor the knowledge content were built from), through the same `understand` activity the workers run.
 *
 *   npm run eval:understanding [-- file.jsonl]
 *
 * Also scores models/corpus/ambiguous.jsonl: vague messages with the topics each could mean, where the bot should ask.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { committedUnderstanding } from './understanding-setup';
import chart from '../../machines/charts/conversation.chart.json';
import { answersDirectly } from '../../machines/conversation';

const AMBIGUOUS = path.join(__dirname, '../../models/corpus/ambiguous.jsonl');
/** The thresholds of the committed chart (what `npm start` publishes). */
const { params } = chart;

async function main() {
  const file = process.argv[2] ?? path.join(__dirname, '../../models/corpus/intent.jsonl');
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { text: string; label: string; split?: string })
    .filter((l) => l.split === 'test');
  const { index, understand } = await committedUnderstanding();

  const count = { topics: 0, answered: 0, answeredRight: 0, clarified: 0, clarifiedRight: 0, oos: 0, oosPolite: 0, oosAnswered: 0, metas: 0, metaRight: 0 };
  const retrievalOnly = { top1: 0 };
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
  const pct = (n: number, d: number) => `${((100 * n) / Math.max(1, d)).toFixed(1)}%`;
  const c = count;
  console.log(`Understanding (intent model + knowledge retrieval + lexicon) on ${lines.length} held-out lines of ${path.relative(process.cwd(), file)}
  topic questions ${c.topics}:
    answered directly ${pct(c.answered, c.topics)}, of which the right topic ${pct(c.answeredRight, c.answered)}
    clarifying question ${pct(c.clarified, c.topics)}, right topic among the options ${pct(c.clarifiedRight, c.clarified)}
    menu ${pct(c.topics - c.answered - c.clarified, c.topics)}
    (knowledge retrieval alone, top-1: ${pct(retrievalOnly.top1, c.topics)})
  out-of-scope lines ${c.oos}: told politely it is out of scope ${pct(c.oosPolite, c.oos)}, wrongly answered ${pct(c.oosAnswered, c.oos)}
  conversational acts ${c.metas}: recognised ${pct(c.metaRight, c.metas)}
Ambiguous messages ${vague.length} (${path.relative(process.cwd(), AMBIGUOUS)}): asked which topic is meant (or menu) ${pct(amb.asked, vague.length)}, \
answered one of the plausible topics ${pct(amb.answeredPlausible, vague.length)}, answered another topic ${pct(amb.answeredOther, vague.length)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
