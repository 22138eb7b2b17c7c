/**
 * Turn benchmark: simulated users through the real HTTP API → PostgreSQL → Temporal Update → worker (chart +
 * ONNX models + retrieval) → PostgreSQL → reply; then, in the same run, the lost/duplicate checks on the
 * stored data, the same load shape against a trivial Temporal workflow (the cost of durability alone), and
 * the same script in-process, the chart and the worker's activities called directly with no Temporal or HTTP (the floor).
 *
 *   npm run bench:turns -- [--conversations 50] [--turns 20] [--think-ms 0]
 *   npm run bench:turns -- --first-turns 200 [--conversations 50] [--think-ms 0]
 *
 * --conversations  concurrent simulated users (in the first-turn run: concurrent clients)
 * --turns          messages each user sends in their conversation
 * --think-ms       pause of each user between a reply and their next message; 0 measures saturation
 *                  (closed loop), a few seconds latency at a realistic offered load
 * --first-turns N  instead of conversations: N messages, each from a new user, so each opens a conversation
 *
 * Latency is reported for turns that ran understanding (see ranUnderstanding) apart from the rest
 * (numbered picks, turns while waiting for a human), which skip the models and would flatter the figure.
 * Exits non-zero when any lost or duplicate count is above zero.
 *
 * Starts its own Temporal dev server (in-memory), worker and API processes, on a scratch database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import type { TurnResponse } from '../../common/types';
import { seededDatabase, startTemporal } from '../support/stack';
import { runFloor, type FloorTurn } from './floor';
import { checkStoredData, type IntegrityCounts } from './integrity';
import { driveLanes, sendToChannel, sleep, type ChannelResult, type Timed } from './load';
import { conversationLanes, firstTurnLanes, usersOf, type PlannedMessage } from './plan';
import { seedBenchUsers } from './script';
import { formatPercentiles, ms, percentiles, tally } from './stats';
import { startTrivialWorker, trivialSender } from './trivial';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CONVERSATIONS = arg('conversations', 50);
const TURNS = arg('turns', 20);
const THINK_MS = arg('think-ms', 0);
const FIRST_TURNS = arg('first-turns', 0);
const PORT = arg('port', 18080);
const TOKEN = 'bench-token';
const ROOT = path.join(__dirname, '../..');
const BASE_URL = `http://127.0.0.1:${PORT}`;

async function main(): Promise<number> {
  const loadBefore = loadavg()[0];
  const lanes = FIRST_TURNS ? firstTurnLanes(FIRST_TURNS, CONVERSATIONS) : conversationLanes(CONVERSATIONS, TURNS);
  const { ds, url: dbUrl } = await seededDatabase('bench');
  await seedBenchUsers(ds, usersOf(lanes));
  const env = await startTemporal();
  const address = env.connection.options.address as string;
  const system = startSystem(dbUrl, address);
  let trivialWorker: ChildProcess | undefined;
  try {
    await waitForHealthy(`${BASE_URL}/healthz`);
    await warmUp((msg) => sendToChannel(BASE_URL, TOKEN, msg));

    const bot = await driveLanes(lanes, THINK_MS, (msg) => sendToChannel(BASE_URL, TOKEN, msg));
    // Checked while the worker still runs: the workflows answer the view query.
    const integrity = await checkStoredData(ds, env.client, bot.timed);

    trivialWorker = await startTrivialWorker(address);
    const sendTrivial = trivialSender(env.client);
    await warmUp(sendTrivial);
    const trivial = await driveLanes(lanes, THINK_MS, sendTrivial);

    const floor = await runFloor(ds, lanes, path.join(ROOT, 'tests/.tmp'));

    console.log(report(bot, integrity, trivial, floor, loadBefore));
    return failures(integrity) > 0 ? 1 : 0;
  } finally {
    await Promise.all([...system, ...(trivialWorker ? [trivialWorker] : [])].map(stopProcess));
    await env.teardown();
    await ds.destroy();
  }
}

/** The worker and API as separate processes, as deployed. */
function startSystem(dbUrl: string, temporalAddress: string): ChildProcess[] {
  const env = {
    ...process.env,
    DATABASE_URL: dbUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    CS_TASK_QUEUE: 'cs-bench',
    CS_CHANNEL_TOKEN: TOKEN,
    PORT: String(PORT),
    CS_RATE_LIMIT: '100000',
    CS_DB_POOL: '20',
  };
  // BENCH_API_NODE_ARGS / BENCH_WORKER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile a process.
  const nodeArgs = (who: string) => (process.env[`BENCH_${who}_NODE_ARGS`] ?? '').split(' ').filter(Boolean);
  const start = (who: string, script: string, nodeId: string) =>
    spawn(process.execPath, [...nodeArgs(who), '--import', 'tsx', script], { cwd: ROOT, env: { ...env, CS_NODE_ID: nodeId }, stdio: 'inherit' });
  return [start('WORKER', 'worker/main.ts', '11'), start('API', 'server/main.ts', '12')];
}

/**
 * Not measured: bundles, caches, JIT, the models' first calls. Two messages per warm-up user, so both a
 * conversation's start (update-with-start) and a running conversation (plain Update) are warm.
 */
async function warmUp(send: (msg: PlannedMessage) => Promise<unknown>): Promise<void> {
  await Promise.all(
    Array.from({ length: 5 }, async (_, i) => {
      await send({ userId: `warm-${i}`, messageId: `warm-${i}-0`, text: '你好', opensConversation: true });
      await send({ userId: `warm-${i}`, messageId: `warm-${i}-1`, text: '视频上传失败怎么办', opensConversation: false });
    }),
  );
}

// ---- report ----------------------------------------------------------------------------------------------

type Run<T> = { timed: Timed<T>[]; seconds: number };

function report(bot: Run<ChannelResult>, integrity: IntegrityCounts, trivial: Run<void>, floor: FloorTurn[], loadBefore: number): string {
  const understoodShare = bot.timed.filter((s) => s.result.body && ranUnderstanding(s.result.body)).length / bot.timed.length;
  const floorShare = floor.filter((t) => t.understood).length / floor.length;
  return [
    '',
    title(bot.timed.length),
    `machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    `load average (1 min) before the run ${loadBefore.toFixed(2)}, at the end ${loadavg()[0].toFixed(2)} (other work on the machine skews every figure)`,
    ...fullPathSection(bot),
    ...integritySection(integrity),
    ...trivialSection(bot, trivial),
    ...floorSection(floor),
    degradedWarning(understoodShare, floorShare),
    failures(integrity) ? `FAILED: ${failures(integrity)} lost or duplicated` : 'no lost or duplicated messages',
    '',
  ]
    .filter((line): line is string => line !== null)
    .join('\n');
}

function title(sent: number): string {
  const think = `think time ${THINK_MS ? `~${THINK_MS} ms` : 'none (saturation)'}`;
  return FIRST_TURNS
    ? `First-turn benchmark — ${sent} messages, each from a new user (each opens a conversation), ${CONVERSATIONS} concurrent clients, ${think}`
    : `Turn benchmark — ${CONVERSATIONS} concurrent conversations × ${TURNS} turns (${sent} messages), ${think}`;
}

function fullPathSection(bot: Run<ChannelResult>): string[] {
  const answered = bot.timed.filter((s) => s.result.body);
  const understood = answered.filter((s) => ranUnderstanding(s.result.body!));
  const other = answered.filter((s) => !ranUnderstanding(s.result.body!));
  const latencies = (xs: Array<{ ms: number }>) => formatPercentiles(percentiles(xs.map((x) => x.ms)));
  // A conversation's first turn also starts its workflow (chart load, customer lookup): DESIGN §7 reports it apart.
  const opening = understood.filter((s) => s.msg.opensConversation);
  const running = understood.filter((s) => !s.msg.opensConversation);
  return [
    `full path (HTTP → PostgreSQL → Temporal update → worker → PostgreSQL → reply): ${bot.timed.length} messages in ${bot.seconds.toFixed(1)} s = ${(bot.timed.length / bot.seconds).toFixed(1)} messages/s`,
    `  understood turns (both models + retrieval ran), ${understood.length}:   ${latencies(understood)}`,
    ...(FIRST_TURNS
      ? []
      : [
          `    in a running conversation, ${running.length}:   ${latencies(running)}`,
          `    opening a conversation, ${opening.length}:   ${latencies(opening)}`,
        ]),
    `  other turns (numbered picks, waiting for a human), ${other.length}:   ${latencies(other)}`,
    `  all turns, ${bot.timed.length}:   ${latencies(bot.timed)}`,
    `  state after the turn: ${tally(bot.timed.map((s) => s.result.body?.state ?? `HTTP ${s.result.status}`))}`,
    `  retried after 503: ${bot.timed.filter((s) => s.result.attempts > 1).length}`,
  ];
}

function integritySection({ lost, duplicated }: IntegrityCounts): string[] {
  return [
    'lost (from the stored data and the workflows\' view query; each must be 0):',
    `  no 200 ${lost.notAnswered}   not stored ${lost.notStored}   no stored response ${lost.noStoredResponse}   replies not stored ${lost.repliesNotStored}` +
      `   another message's answer ${lost.otherMessagesAnswer}   conversations with messages their workflow never processed ${lost.conversationsWithUnprocessedMessages}`,
    'duplicated (from the stored data and the workflows\' view query; each must be 0):',
    `  answered twice (two turn events) ${duplicated.answeredTwiceByEvents}   answered twice (replies from two turns) ${duplicated.answeredTwiceByReplies}` +
      `   reply stored twice ${duplicated.replyStoredTwice}   workflow turns beyond stored messages ${duplicated.workflowTurnsBeyondStoredMessages}`,
  ];
}

function trivialSection(bot: Run<ChannelResult>, trivial: Run<void>): string[] {
  const botRate = bot.timed.length / bot.seconds;
  const trivialRate = trivial.timed.length / trivial.seconds;
  const caveat = THINK_MS ? '; with think time both rates are the offered load, so the ratio says little' : '';
  const latencies = (xs: Array<{ ms: number }>) => formatPercentiles(percentiles(xs.map((x) => x.ms)));
  const opening = trivial.timed.filter((s) => s.msg.opensConversation);
  const running = trivial.timed.filter((s) => !s.msg.opensConversation);
  return [
    `trivial Temporal Updates (handler returns at once; own worker process, task queue and bundle; same dev server, lanes and think time; called directly, no HTTP/DB): ` +
      `${trivial.timed.length} in ${trivial.seconds.toFixed(1)} s = ${trivialRate.toFixed(1)} updates/s`,
    `  all, ${trivial.timed.length}:   ${latencies(trivial.timed)}`,
    ...(FIRST_TURNS
      ? []
      : [
          `    in a running workflow, ${running.length}:   ${latencies(running)}`,
          `    starting the workflow (update-with-start), ${opening.length}:   ${latencies(opening)}`,
        ]),
    `  bot turns/s ÷ trivial updates/s = ${botRate.toFixed(1)} ÷ ${trivialRate.toFixed(1)} = ${(botRate / trivialRate).toFixed(2)} (DESIGN §7 target ≥ 0.9${caveat})`,
  ];
}

function floorSection(floor: FloorTurn[]): string[] {
  const understood = floor.filter((t) => t.understood);
  const other = floor.filter((t) => !t.understood);
  const perCoreSecond = (turns: FloorTurn[]) => ((turns.length / turns.reduce((sum, t) => sum + t.ms, 0)) * 1000).toFixed(0);
  const latencies = (turns: FloorTurn[]) => formatPercentiles(percentiles(turns.map((t) => t.ms)));
  return [
    `in-process floor (committed chart + the worker's activities called directly: understand = both ONNX models + retrieval; no Temporal/HTTP, turns not stored; same script), ${floor.length} turns, one at a time:`,
    `  understood turns, ${understood.length} (${understood.filter((t) => t.lookedUpPlatform).length} also looked up the platform in PostgreSQL):   ` +
      `${latencies(understood)}   ${perCoreSecond(understood)} turns/s on one core`,
    `  other turns, ${other.length}:   ${latencies(other)}`,
    `  all turns:   mean ${ms(floor.reduce((sum, t) => sum + t.ms, 0) / floor.length)}   ${perCoreSecond(floor)} turns/s on one core`,
  ];
}

/**
 * The floor runs the same script through the same chart, so the share of understood turns should match.
 * Far fewer on the full path means the worker fell back (e.g. models or knowledge not loaded, see its log)
 * and its latencies are not those of the bot.
 */
function degradedWarning(fullPathShare: number, floorShare: number): string | null {
  if (fullPathShare >= floorShare - 0.05) return null;
  const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
  return `WARNING: the full path understood ${pct(fullPathShare)} of turns, the floor ${pct(floorShare)} of the same script: the worker is degraded, see its log`;
}

/**
 * Whether a turn ran understanding, read from its response: it carries the understanding's verdict, an
 * emotion and an intent that names the model version. Emotion alone is not enough: a bare digit (a numbered
 * pick) is given a neutral emotion without the models; its intent, the picked topic, names no model.
 * (A digit typed while waiting for a human would keep the last turn's intent and count; the script sends none.)
 */
const ranUnderstanding = (body: TurnResponse) => !!body.emotion && !!body.intent?.model;

const failures = ({ lost, duplicated }: IntegrityCounts) =>
  [...Object.values(lost), ...Object.values(duplicated)].reduce((sum, n) => sum + n, 0);

// ---- processes -------------------------------------------------------------------------------------------

async function waitForHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await sleep(300);
  }
  throw new Error(`${url} did not become healthy`);
}

/** SIGINT (graceful shutdown), then SIGKILL if it has not exited within 5 s. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
