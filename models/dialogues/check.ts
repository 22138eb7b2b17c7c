/**
 * Validates the multi-turn dialogue corpus (models/dialogues/dialogues.jsonl) and prints its counts.
 *
 *   npx tsx models/dialogues/check.ts [path/to/dialogues.jsonl]
 *
 * Exits with code 1 when any check fails. What is checked (see README.md in this folder):
 * - line format: id (d0001…, unique), split (train | test), 2–7 turns, each turn { text, label, channel? };
 * - every intent is a taxonomy id (DESIGN §5), `oos`, or one of the two new acts;
 *   act is one of the acts or null, and a non-null act equals the intent;
 * - topic tracking: an act or an `oos` turn keeps the topic; a topical turn sets topic = intent;
 *   a followup turn's intent equals the previous turn's topic; a topic change sets exactly one of
 *   switch (new topic) / return (topic seen earlier in the conversation); otherwise both are false;
 * - corpus targets: ≥ 330 conversations, average ≥ 3.5 user turns, every topic the main topic of ≥ 6
 *   conversations, test = 25% of conversations and covering every topic;
 * - no test turn equal or nearly equal (character-bigram Jaccard ≥ 0.7 after removing spaces and
 *   punctuation) to any train turn.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The 37 non-meta intents of DESIGN §5 (the possible conversation topics). */
const TOPICS: readonly string[] = [
  'live.permission', 'live.interrupted', 'live.earnings_withdraw', 'live.shopping_cart',
  'creator.low_traffic', 'creator.promotion', 'creator.review_stuck', 'creator.music_copyright', 'creator.monetization',
  'account.login', 'account.realname', 'account.ban_appeal', 'account.change_phone', 'account.deactivate',
  'account.security', 'account.privacy',
  'order.status', 'order.logistics', 'order.shipping_fee', 'order.free_shipping', 'order.return_refund', 'order.cancel',
  'order.change_address', 'order.damaged_wrong', 'order.invoice', 'order.coupon',
  'pay.recharge', 'pay.minor_refund', 'pay.withdraw', 'pay.failed',
  'app.popup', 'app.upload_failed', 'app.playback', 'app.notifications', 'app.youth_mode',
  'content.report', 'content.comment_limited',
];
/** Conversational acts: the seven meta intents of DESIGN §5 plus the two acts this corpus adds. */
const ACTS: readonly string[] = [
  'meta.greeting', 'meta.thanks', 'meta.goodbye', 'meta.human', 'meta.affirm', 'meta.deny', 'meta.complaint',
  'meta.will_try', 'meta.self_resolved',
];
const INTENTS = new Set<string>([...TOPICS, ...ACTS, 'oos']);
const TOPIC_SET = new Set<string>(TOPICS);
const ACT_SET = new Set<string>(ACTS);
const CHANNELS = new Set<string>(['app', 'web', 'email', 'phone']);
const NEAR_DUPLICATE = 0.7;
const MIN_CONVERSATIONS = 330;
const MIN_AVERAGE_TURNS = 3.5;
const MIN_PER_TOPIC = 6;

interface Label {
  intent: string;
  act: string | null;
  topic: string | null;
  followup: boolean;
  switch: boolean;
  return?: boolean;
}
interface Turn {
  text: string;
  label: Label;
  channel?: string;
}
interface Conversation {
  id: string;
  split: 'train' | 'test';
  turns: Turn[];
}

const errors: string[] = [];
const fail = (where: string, message: string): void => {
  errors.push(`${where}: ${message}`);
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function extraKeys(obj: Record<string, unknown>, allowed: readonly string[]): string[] {
  return Object.keys(obj).filter((k) => !allowed.includes(k));
}

/** Shape check of one parsed line; returns the conversation when the shape is right. */
function parseConversation(raw: unknown, where: string): Conversation | undefined {
  if (!isRecord(raw)) return void fail(where, 'not a JSON object');
  const bad = extraKeys(raw, ['id', 'split', 'turns']);
  if (bad.length) fail(where, `unknown fields ${bad.join(', ')}`);
  const { id, split, turns } = raw;
  if (typeof id !== 'string' || !/^d\d{4,}$/.test(id)) return void fail(where, `bad id ${JSON.stringify(id)}`);
  if (split !== 'train' && split !== 'test') return void fail(id, `bad split ${JSON.stringify(split)}`);
  if (!Array.isArray(turns)) return void fail(id, 'turns is not an array');
  if (turns.length < 2 || turns.length > 7) fail(id, `${turns.length} turns (must be 2–7)`);
  const out: Turn[] = [];
  turns.forEach((t: unknown, i: number) => {
    const w = `${id} turn ${i + 1}`;
    if (!isRecord(t)) return fail(w, 'turn is not an object');
    const badTurn = extraKeys(t, ['text', 'label', 'channel']);
    if (badTurn.length) fail(w, `unknown fields ${badTurn.join(', ')}`);
    if (typeof t.text !== 'string' || t.text.trim() === '') return fail(w, 'empty text');
    if (t.text !== t.text.trim()) fail(w, 'text has leading/trailing spaces');
    if (t.channel !== undefined && (typeof t.channel !== 'string' || !CHANNELS.has(t.channel))) {
      fail(w, `bad channel ${JSON.stringify(t.channel)}`);
    }
    const l = t.label;
    if (!isRecord(l)) return fail(w, 'label is not an object');
    const badLabel = extraKeys(l, ['intent', 'act', 'topic', 'followup', 'switch', 'return']);
    if (badLabel.length) fail(w, `unknown label fields ${badLabel.join(', ')}`);
    if (typeof l.intent !== 'string') return fail(w, 'intent is not a string');
    if (l.act !== null && typeof l.act !== 'string') return fail(w, 'act must be a string or null');
    if (l.topic !== null && typeof l.topic !== 'string') return fail(w, 'topic must be a string or null');
    if (typeof l.followup !== 'boolean' || typeof l.switch !== 'boolean') return fail(w, 'followup/switch must be booleans');
    if (l.return !== undefined && typeof l.return !== 'boolean') return fail(w, 'return must be a boolean when present');
    out.push({
      text: t.text,
      channel: t.channel as string | undefined,
      label: {
        intent: l.intent,
        act: l.act as string | null,
        topic: l.topic as string | null,
        followup: l.followup,
        switch: l.switch,
        return: l.return as boolean | undefined,
      },
    });
  });
  if (out.length !== turns.length) return undefined;
  return { id, split, turns: out };
}

/** Label semantics and topic tracking inside one conversation. */
function checkConversation(c: Conversation): void {
  let topic: string | null = null;
  const seen = new Set<string>();
  c.turns.forEach((t, i) => {
    const w = `${c.id} turn ${i + 1} (${t.text})`;
    const l = t.label;
    const ret = l.return === true;
    if (!INTENTS.has(l.intent)) fail(w, `intent ${l.intent} is not a taxonomy id, oos or a new act`);
    if (l.act !== null && !ACT_SET.has(l.act)) fail(w, `act ${l.act} is not an act`);
    if (l.topic !== null && !TOPIC_SET.has(l.topic)) fail(w, `topic ${l.topic} is not a non-meta taxonomy id`);
    const isAct = ACT_SET.has(l.intent);
    if (isAct && l.act !== l.intent) fail(w, `an act turn must have act = intent (${l.intent})`);
    if (!isAct && l.act !== null) fail(w, `act ${l.act} on a non-act intent ${l.intent}`);
    if (isAct || l.intent === 'oos') {
      // acts and out-of-scope asides leave the conversation's topic where it was
      if (l.topic !== topic) fail(w, `topic ${l.topic} after an act/oos turn, expected ${topic}`);
      if (l.followup || l.switch || ret) fail(w, 'an act/oos turn is never followup/switch/return');
      return;
    }
    // a topical turn: its topic is its intent; the previous turn's topic decides followup/switch/return
    if (l.topic !== l.intent) fail(w, `topic ${l.topic} differs from the topical intent ${l.intent}`);
    if (l.followup) {
      if (l.intent !== topic) fail(w, `followup intent ${l.intent} differs from the previous topic ${topic}`);
      if (l.switch || ret) fail(w, 'a followup is never a switch/return');
    } else if (topic !== null && l.intent !== topic) {
      const expectReturn = seen.has(l.intent);
      if (expectReturn && !(ret && !l.switch)) fail(w, `back to earlier topic ${l.intent}: expected return=true, switch=false`);
      if (!expectReturn && !(l.switch && !ret)) fail(w, `new topic ${l.intent}: expected switch=true, return=false`);
    } else if (l.switch || ret) {
      fail(w, 'switch/return set without a topic change');
    }
    topic = l.topic ?? l.intent;
    seen.add(topic);
  });
  if (seen.size === 0) fail(c.id, 'conversation never reaches a topic');
}

/** NFKC, lower case, no whitespace, punctuation or symbols (emoji included). */
function normalize(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[\s\p{P}\p{S}]/gu, '');
}

function bigrams(text: string): Set<string> {
  const chars = [...normalize(text)];
  if (chars.length < 2) return new Set(chars);
  const grams = new Set<string>();
  for (let i = 0; i + 1 < chars.length; i++) grams.add(chars[i] + chars[i + 1]);
  return grams;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const g of a) if (b.has(g)) shared++;
  return shared / (a.size + b.size - shared);
}

/** Test turns equal or nearly equal to a train turn leak the held-out set. */
function checkLeakage(conversations: Conversation[]): void {
  const train = new Map<string, Set<string>>();
  for (const c of conversations) {
    if (c.split !== 'train') continue;
    for (const t of c.turns) train.set(normalize(t.text), bigrams(t.text));
  }
  const trainEntries = [...train.entries()];
  for (const c of conversations) {
    if (c.split !== 'test') continue;
    c.turns.forEach((t, i) => {
      const key = normalize(t.text);
      if (train.has(key)) return fail(`${c.id} turn ${i + 1}`, `test turn equals a train turn: ${t.text}`);
      const grams = bigrams(t.text);
      for (const [other, otherGrams] of trainEntries) {
        const j = jaccard(grams, otherGrams);
        if (j >= NEAR_DUPLICATE) {
          return fail(`${c.id} turn ${i + 1}`, `test turn near-duplicates a train turn (Jaccard ${j.toFixed(2)}): ${t.text} ~ ${other}`);
        }
      }
    });
  }
}

function mainTopic(c: Conversation): string | null {
  for (const t of c.turns) if (t.label.topic !== null) return t.label.topic;
  return null;
}

function pct(n: number, d: number): string {
  return d === 0 ? '0%' : `${((100 * n) / d).toFixed(1)}%`;
}

function main(): void {
  const file = process.argv[2] ?? join(__dirname, 'dialogues.jsonl');
  const lines = readFileSync(file, 'utf8').split('\n');
  const conversations: Conversation[] = [];
  const ids = new Set<string>();
  lines.forEach((line, n) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return fail(`line ${n + 1}`, 'invalid JSON');
    }
    const c = parseConversation(raw, `line ${n + 1}`);
    if (!c) return;
    if (ids.has(c.id)) fail(c.id, 'duplicate id');
    ids.add(c.id);
    conversations.push(c);
  });
  conversations.forEach(checkConversation);
  checkLeakage(conversations);

  // ---- counts ----
  const bySplit = { train: { convs: 0, turns: 0 }, test: { convs: 0, turns: 0 } };
  const perTopic = new Map<string, { train: number; test: number; turns: number }>(
    TOPICS.map((t) => [t, { train: 0, test: 0, turns: 0 }]),
  );
  const acts = new Map<string, number>(ACTS.map((a) => [a, 0]));
  let turns = 0, followups = 0, switches = 0, returns = 0, oos = 0, phoneTurns = 0;
  let convFollowup = 0, convSwitch = 0, convReturn = 0, convPhone = 0;
  for (const c of conversations) {
    bySplit[c.split].convs++;
    bySplit[c.split].turns += c.turns.length;
    turns += c.turns.length;
    const main = mainTopic(c);
    const entry = main ? perTopic.get(main) : undefined;
    if (entry) entry[c.split]++;
    let f = false, s = false, r = false, p = false;
    for (const t of c.turns) {
      const l = t.label;
      const topicEntry = perTopic.get(l.intent);
      if (topicEntry) topicEntry.turns++;
      if (l.act) acts.set(l.act, (acts.get(l.act) ?? 0) + 1);
      if (l.intent === 'oos') oos++;
      if (l.followup) { followups++; f = true; }
      if (l.switch) { switches++; s = true; }
      if (l.return) { returns++; r = true; }
      if (t.channel === 'phone') { phoneTurns++; p = true; }
    }
    if (f) convFollowup++;
    if (s) convSwitch++;
    if (r) convReturn++;
    if (p) convPhone++;
  }
  const n = conversations.length;

  // ---- corpus targets ----
  if (n < MIN_CONVERSATIONS) fail('corpus', `${n} conversations (need ≥ ${MIN_CONVERSATIONS})`);
  if (n > 0 && turns / n < MIN_AVERAGE_TURNS) fail('corpus', `average ${(turns / n).toFixed(2)} turns (need ≥ ${MIN_AVERAGE_TURNS})`);
  if (Math.abs(bySplit.test.convs - n / 4) >= 1) fail('corpus', `${bySplit.test.convs} test conversations, expected 25% of ${n}`);
  for (const [topic, e] of perTopic) {
    if (e.train + e.test < MIN_PER_TOPIC) fail('corpus', `${topic} is the main topic of ${e.train + e.test} conversations (need ≥ ${MIN_PER_TOPIC})`);
    if (e.test === 0) fail('corpus', `no test conversation about ${topic}`);
  }

  console.log(`file: ${file}`);
  console.log(`conversations: ${n}   user turns: ${turns}   average turns: ${n ? (turns / n).toFixed(2) : '0'}`);
  console.log(`train: ${bySplit.train.convs} conversations, ${bySplit.train.turns} turns`);
  console.log(`test:  ${bySplit.test.convs} conversations, ${bySplit.test.turns} turns (${pct(bySplit.test.convs, n)})`);
  console.log(`followup turns: ${followups} (conversations with ≥ 1: ${convFollowup}, ${pct(convFollowup, n)})`);
  console.log(`switch turns: ${switches} (conversations with ≥ 1: ${convSwitch}, ${pct(convSwitch, n)})`);
  console.log(`return turns: ${returns} (conversations with ≥ 1: ${convReturn}, ${pct(convReturn, n)})`);
  console.log(`oos turns: ${oos}   phone turns: ${phoneTurns} (conversations: ${convPhone})`);
  console.log('acts:');
  for (const [a, k] of acts) console.log(`  ${a.padEnd(20)} ${k}`);
  console.log('per topic (main topic of conversations train/test; turns with that intent):');
  for (const [topic, e] of perTopic) {
    console.log(`  ${topic.padEnd(26)} ${String(e.train).padStart(3)} / ${String(e.test).padStart(2)}   turns ${e.turns}`);
  }
  if (errors.length) {
    console.error(`\n${errors.length} problem(s):`);
    for (const e of errors.slice(0, 100)) console.error(`  ${e}`);
    if (errors.length > 100) console.error(`  … and ${errors.length - 100} more`);
    process.exit(1);
  }
  console.log('\nOK: all checks passed (labels, topic tracking, ids, splits, test/train near-duplicates)');
}

main();
