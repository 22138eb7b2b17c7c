/**
 * Whole conversations as the unit of quality: every conversation of the held-out split of
 * models/dialogues/dialogues.jsonl (written for this project, never trained on) is run turn by turn through the
 * committed chart with the real `understand` activity (both ONNX models + knowledge retrieval + detail nodes), and
 * what the bot made of each message is compared with the turn's label in context.
 *
 *   npm run eval:dialogue [-- --split train|test] [--errors]
 *   DIALOGUE_PARAMS='{"topicPrior":0.4}' npm run eval:dialogue -- --split train   # try chart params (tune on train only)
 *
 * Reported twice: with the chart reading messages inside the current topic (params.readInTopic, as committed) and
 * without it (the earlier behaviour), so the gain of topic-aware understanding is measured on the same turns.
 * The platform's orders and account are empty here (no database): order topics ask for a number, which still
 * counts as the right topic.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { committedUnderstanding } from './understanding-setup';
import chartJson from '../../machines/charts/conversation.chart.json';
import { buildChart, type Chart } from '../../machines/chart';
import type { ConversationSnapshot } from '../../machines/conversation';
import { runToRest, startChart, type ActorOutcome, type Invocation } from '../../machines/interpret';
import { replies } from '../../machines/replies';
import type { Channel, Reply } from '../../common/types';

const DIALOGUES = path.join(__dirname, '../../models/dialogues/dialogues.jsonl');

interface Turn {
  text: string;
  channel?: Channel;
  label: { intent: string; act: string | null; topic: string | null; followup: boolean; switch: boolean; return?: boolean };
}
interface Dialogue {
  id: string;
  split: 'train' | 'test';
  turns: Turn[];
}

/** What the bot made of a message, read from what it said (the chart's replies are fixed texts per act). */
export function reading(before: ConversationSnapshot, after: ConversationSnapshot): string {
  const said = (r: Reply) => after.context.outbox.some((o) => o.text === r.text);
  if (after.context.rejections > before.context.rejections) return 'meta.deny';
  if (said(replies.glad())) return 'solved';
  if (said(replies.youAreWelcome())) return 'meta.thanks';
  if (said(replies.goodbye())) return 'meta.goodbye';
  if (said(replies.willTry())) return 'meta.will_try';
  if (said(replies.resolvedItself())) return 'meta.self_resolved';
  if (said(replies.complaintHeard())) return 'meta.complaint';
  if (said(replies.askHowToHelp())) return 'meta.greeting';
  if (said(replies.handoffQueued()) || said(replies.handoffHold())) return 'meta.human';
  if (said(replies.outOfScope())) return 'oos';
  if (said(replies.notUnderstood())) return 'menu';
  if (said(replies.askWhatElse())) return before.context.nlu?.meta ?? after.context.nlu?.meta ?? 'act';
  if (after.context.expecting === 'choice') return 'clarify';
  return after.context.topic?.intent ?? 'none';
}

/** A reading is right when it is the labelled intent; "solved" is what affirm and thanks after an answer lead to. */
function isRight(read: string, label: Turn['label']): boolean {
  if (read === 'solved') return label.intent === 'meta.affirm' || label.intent === 'meta.thanks';
  return read === label.intent;
}

async function run(chart: Chart, dialogues: Dialogue[], understand: Awaited<ReturnType<typeof committedUnderstanding>>["understand"]) {
  const actors = async (inv: Invocation): Promise<ActorOutcome> => {
    switch (inv.src) {
      case 'understand':
        return { ok: true, output: await understand(inv.input) };
      case 'findOrders':
        return { ok: true, output: { orders: [] } };
      case 'lookupAccount':
        return { ok: true, output: { found: false } };
      case 'lookupOrder':
        return { ok: true, output: { found: false } };
      case 'requestHandoff':
        return { ok: true, output: { ticketId: 'eval', status: 'queued' } };
      case 'verifyIdentity':
        return { ok: true, output: { verified: false } };
      case 'performAction':
        return { ok: true, output: { id: 'eval', status: 'done' } };
      case 'issueCoupon':
        return { ok: true, output: { issued: false, reason: 'daily_budget' } };
    }
  };
  const count = { turns: 0, right: 0, conversations: 0, whole: 0, clarified: 0 };
  const byKind = new Map<string, { n: number; right: number }>();
  const note = (kind: string, ok: boolean) => {
    const k = byKind.get(kind) ?? { n: 0, right: 0 };
    k.n++;
    if (ok) k.right++;
    byKind.set(kind, k);
  };
  const errors: string[] = [];
  for (const d of dialogues) {
    let s = startChart(chart, { conversationId: d.id, userId: `eval-${d.id}`, channel: d.turns[0].channel ?? 'app', tier: 'standard' });
    let allRight = true;
    for (const t of d.turns) {
      const before = s;
      s = await runToRest(chart, s, { type: 'user.message', text: t.text, channel: t.channel ?? 'app' }, actors);
      const read = reading(before, s);
      const ok = isRight(read, t.label);
      count.turns++;
      if (ok) count.right++;
      else allRight = false;
      if (read === 'clarify') count.clarified++;
      const kind = t.label.act ? 'acts' : t.label.followup ? 'follow-ups' : t.label.return ? 'returns' : t.label.switch ? 'switches' : t.label.intent === 'oos' ? 'out of scope' : 'opening / other questions';
      note(kind, ok);
      if (!ok && errors.length < 400) errors.push(`${d.id} 「${t.text}」 label ${t.label.intent}, bot read ${read}`);
      if (s.status === 'done') break;
    }
    count.conversations++;
    if (allRight) count.whole++;
  }
  return { count, byKind, errors };
}

async function main() {
  const args = process.argv.slice(2);
  const split = args.includes('--split') ? args[args.indexOf('--split') + 1] : 'test';
  if (split !== 'train' && split !== 'test') throw new Error('--split must be train or test');
  const dialogues = readFileSync(DIALOGUES, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Dialogue)
    .filter((d) => d.split === split);
  const { understand } = await committedUnderstanding();
  const inTopic = buildChart(1, chartJson);
  const alone = buildChart(1, { ...chartJson, params: { ...chartJson.params, readInTopic: false } });
  const tried = process.env.DIALOGUE_PARAMS ? JSON.parse(process.env.DIALOGUE_PARAMS) : null;
  const tuned = tried ? buildChart(1, { ...chartJson, params: { ...chartJson.params, ...tried } }) : inTopic;

  const pct = (n: number, d: number) => `${((100 * n) / Math.max(1, d)).toFixed(1)}%`;
  const report = (name: string, r: Awaited<ReturnType<typeof run>>) =>
    `${name}
  per-turn accuracy in context ${pct(r.count.right, r.count.turns)} of ${r.count.turns} turns (clarifying questions ${pct(r.count.clarified, r.count.turns)}, counted wrong)
  whole-conversation success ${pct(r.count.whole, r.count.conversations)} of ${r.count.conversations} conversations
${[...r.byKind].map(([k, v]) => `    ${k}: ${pct(v.right, v.n)} of ${v.n}`).join('\n')}`;

  const before = await run(alone, dialogues, understand);
  const after = await run(tuned, dialogues, understand);
  console.log(`Dialogue evaluation on the ${split} split of ${path.relative(process.cwd(), DIALOGUES)} (${dialogues.length} conversations)
${report('messages read on their own (readInTopic off, the earlier behaviour):', before)}
${report('messages read inside the current topic (committed chart):', after)}`);
  if (args.includes('--errors')) console.log(after.errors.join('\n'));
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
