/**
 * Turn-latency benchmark: N concurrent conversations through the real HTTP API → Temporal → worker → PostgreSQL,
 * then the same chart + understanding pipeline called in-process as the floor.
 *
 *   npm run bench:turns -- [--conversations 50] [--turns 20] [--think-ms 0]
 *
 * --think-ms is the pause of each simulated user between a reply and their next message; 0 measures
 * saturation (closed loop), a few seconds measures latency at a realistic offered load.
 *
 * Starts its own Temporal dev server (in-memory) and its own worker and API processes on a scratch database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { KnowledgeHolder } from '../../activities/knowledge-holder';
import { ModelHolder } from '../../activities/model-holder';
import { makeUnderstand } from '../../activities/understand';
import { runToRest, startChart } from '../../machines/interpret';
import type { UnderstandInput } from '../../machines/types';
import { seededDatabase, startTemporal } from '../support/stack';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CONVERSATIONS = arg('conversations', 50);
const TURNS = arg('turns', 20);
const PORT = arg('port', 18080);
const THINK_MS = arg('think-ms', 0);
const TOKEN = 'bench-token';
const ROOT = path.join(__dirname, '../..');

// A realistic script: questions, feedback, follow-ups; cycled per conversation with an offset.
const SCRIPT = [
  '你好', '我的视频播放量一直很低是不是被限流了', '没用', '解决了', '订单怎么还没发货', '谢谢',
  '怎么开通直播', '有用', '充值的星币没到账', '还是不行', '退款', '1', '换绑手机号怎么弄', '好的',
  '视频审核好慢啊', '没用', '没用', '你好', '发票怎么开', '再见了没别的问题',
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function main() {
  const { ds, url: dbUrl } = await seededDatabase('bench');
  const env = await startTemporal();
  const address = env.connection.options.address as string;
  const childEnv = {
    ...process.env,
    DATABASE_URL: dbUrl,
    TEMPORAL_ADDRESS: address,
    CS_TASK_QUEUE: 'cs-bench',
    CS_CHANNEL_TOKEN: TOKEN,
    PORT: String(PORT),
    CS_RATE_LIMIT: '100000',
    CS_DB_POOL: '20',
  };
  // BENCH_API_NODE_ARGS / BENCH_WORKER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile a process.
  const nodeArgs = (who: string) => (process.env[`BENCH_${who}_NODE_ARGS`] ?? '').split(' ').filter(Boolean);
  const children: ChildProcess[] = [
    spawn(process.execPath, [...nodeArgs('WORKER'), '--import', 'tsx', 'worker/main.ts'], { cwd: ROOT, env: { ...childEnv, CS_NODE_ID: '11' }, stdio: 'inherit' }),
    spawn(process.execPath, [...nodeArgs('API'), '--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env: { ...childEnv, CS_NODE_ID: '12' }, stdio: 'inherit' }),
  ];
  try {
    await waitForHealthy(`http://127.0.0.1:${PORT}/healthz`);
    // Warm-up: bundles, caches and JIT, not measured.
    await Promise.all(Array.from({ length: 5 }, (_, i) => send(`warm-${i}`, '你好', `warm-${i}`)));

    const latencies: number[] = [];
    let failed = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONVERSATIONS }, async (_, c) => {
        // With think time, users arrive spread over one think period instead of all at once.
        if (THINK_MS) await new Promise((r) => setTimeout(r, (c * THINK_MS) / CONVERSATIONS));
        for (let t = 0; t < TURNS; t++) {
          const text = SCRIPT[(c + t) % SCRIPT.length];
          const t0 = performance.now();
          const ok = await send(`bench-${c}`, text, `b-${c}-${t}`);
          latencies.push(performance.now() - t0);
          if (!ok) failed++;
          if (THINK_MS) await new Promise((r) => setTimeout(r, THINK_MS * (0.5 + ((c * 7 + t * 13) % 10) / 10)));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);

    // Lost: answered-or-not messages that are not stored with their response. Duplicated: stored twice or answered twice.
    const [{ stored, answered, dup }] = await ds.query(`
      SELECT count(*)::int AS stored, count(response)::int AS answered,
             (SELECT count(*)::int FROM (SELECT client_message_id FROM messages WHERE client_message_id LIKE 'b-%'
               GROUP BY user_id, client_message_id HAVING count(*) > 1) d) AS dup
      FROM messages WHERE sender = 'user' AND client_message_id LIKE 'b-%'`);
    const sent = CONVERSATIONS * TURNS;
    const floor = await inProcessFloor(ds);

    console.log(`
Turn benchmark — ${CONVERSATIONS} concurrent conversations × ${TURNS} turns (${sent} messages), think time ${THINK_MS ? `~${THINK_MS} ms` : 'none (saturation)'}
machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}
full path (HTTP → PostgreSQL → Temporal update → worker → PostgreSQL → reply):
  p50 ${fmt(percentile(latencies, 50))}   p95 ${fmt(percentile(latencies, 95))}   p99 ${fmt(percentile(latencies, 99))}   max ${fmt(latencies[latencies.length - 1])}
  throughput ${(sent / seconds).toFixed(1)} messages/s over ${seconds.toFixed(1)} s
  non-200 responses ${failed}   lost ${sent - answered}   stored ${stored}   duplicated ${dup}
in-process floor (chart + understanding with both ONNX models, no Temporal/HTTP/DB), ${floor.n} turns:
  p50 ${fmt(floor.p50)}   p99 ${fmt(floor.p99)}   ${floor.perSecond.toFixed(0)} turns/s on one core
`);
  } finally {
    for (const c of children) c.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 1000));
    await env.teardown();
    await ds.destroy();
  }

  async function send(userId: string, text: string, messageId: string): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await fetch(`http://127.0.0.1:${PORT}/api/channels/app/messages`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ userId, text, messageId }),
      });
      await res.arrayBuffer();
      if (res.ok) return true;
      if (res.status !== 503) return false; // only retry what the API says is retryable
    }
    return false;
  }
}

async function inProcessFloor(ds: import('typeorm').DataSource) {
  const knowledge = new KnowledgeHolder(ds);
  await knowledge.load();
  const models = new ModelHolder(ds, path.join(ROOT, '.data/models'));
  await models.refreshIfChanged();
  const understand = makeUnderstand(knowledge, models);
  const samples: number[] = [];
  for (let c = 0; c < 100; c++) {
    let snapshot = startChart({ conversationId: String(c), userId: `floor-${c}`, channel: 'app' });
    for (let t = 0; t < TURNS && snapshot.status !== 'done'; t++) {
      const t0 = performance.now();
      snapshot = await runToRest(snapshot, { type: 'user.message', text: SCRIPT[(c + t) % SCRIPT.length], channel: 'app' }, async (inv) =>
        inv.src === 'understand'
          ? { ok: true, output: await understand(inv.input as UnderstandInput) }
          : { ok: true, output: { ticketId: '1', status: 'queued' } },
      );
      samples.push(performance.now() - t0);
    }
  }
  samples.sort((a, b) => a - b);
  const total = samples.reduce((a, b) => a + b, 0);
  return { n: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), perSecond: samples.length / (total / 1000) };
}

async function waitForHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not become healthy`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
