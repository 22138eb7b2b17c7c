import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { config } from '../common/config';
import { temporalConnectionOptions } from '../common/temporal-connection';
import { ensureRfmSchedule, RFM_SCHEDULE_ID } from '../server/tier-recompute';
import { migrateAndSeed } from './migrate';
import { devServerFlags, temporalBinary } from './temporal-cli';

// Runs the whole system: Temporal dev server + Web UI, migrations and seed data, worker, HTTP API.
const ROOT = path.join(__dirname, '..');
const children: ChildProcess[] = [];
const useOwnTemporal = config.runsOwnTemporal;
const UI_PORT = config.temporalUiPort;

function run(name: string, cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${name} exited (${code ?? signal}); stopping everything`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port }, () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The daily RFM tier recompute, created once (an existing schedule is kept as it is). A dev server that has just
 * opened its port may still be registering its namespace, so a few tries; without it the system runs anyway and
 * `POST /api/admin/tiers/recompute` still works.
 */
async function scheduleTierRecompute(): Promise<void> {
  const connection = await Connection.connect(temporalConnectionOptions(process.env, config.temporalAddress));
  try {
    const client = new Client({ connection, namespace: config.temporalNamespace });
    for (let attempt = 1; ; attempt++) {
      try {
        const created = await ensureRfmSchedule(client, config.taskQueue);
        console.log(`[start] schedule ${RFM_SCHEDULE_ID} ${created ? 'created' : 'already exists'}`);
        return;
      } catch (err) {
        if (attempt === 5) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  } finally {
    await connection.close();
  }
}

let stopping = false;
function stop(code = 0): void {
  if (stopping) return;
  stopping = true;
  for (const c of children.reverse()) c.kill('SIGINT');
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on('exit', r))))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

async function main() {
  if (useOwnTemporal) {
    mkdirSync(path.join(ROOT, '.data'), { recursive: true });
    const [host, port] = config.temporalAddress.split(':');
    run('temporal', temporalBinary(), [
      'server', 'start-dev',
      '--db-filename', path.join(ROOT, '.data/temporal.db'),
      '--ip', host, '--port', port, '--ui-port', String(UI_PORT),
      '--namespace', config.temporalNamespace,
      '--log-level', 'warn',
      ...devServerFlags,
    ]);
    await waitForPort(host, Number(port), 30_000);
  }
  const seeded = await migrateAndSeed();
  console.log(
    `[start] database ready; knowledge entries: ${seeded.knowledge.inserted} new, ${seeded.knowledge.updated} updated; chart v${seeded.chart.version}${seeded.chart.published ? ' published' : ''}`,
  );
  await scheduleTierRecompute().catch((err) => console.warn(`[start] schedule ${RFM_SCHEDULE_ID} not created: ${err.message}`));
  const tsx = path.join(ROOT, 'node_modules/.bin/tsx');
  run('worker', tsx, ['worker/main.ts']);
  run('api', tsx, ['server/main.ts']);
  await waitForPort('127.0.0.1', config.httpPort, 30_000);
  const api = `http://127.0.0.1:${config.httpPort}`;
  console.log(`
  Customer service is running.
    API            ${api}/api   (GET ${api}/healthz)
    Temporal UI    ${useOwnTemporal ? `http://127.0.0.1:${UI_PORT}` : '(your cluster\'s UI)'}   namespace ${config.temporalNamespace}
    Temporal gRPC  ${config.temporalAddress}
    Channel token  ${config.channelToken}   (Authorization: Bearer …; set CS_CHANNEL_TOKEN to change)
    Admin token    ${config.adminToken}   (platform stand-in: /api/admin/users, /api/admin/orders; CS_ADMIN_TOKEN)
    Database       ${config.databaseUrl.replace(/:[^:@/]+@/, ':***@')}

  Try:
    curl -s -H 'Authorization: Bearer ${config.channelToken}' -H 'Content-Type: application/json' \\
      -d '{"userId":"demo-user","text":"我的视频播放量一直很低是不是被限流了"}' ${api}/api/channels/app/messages
    and an order question for the demo shop's user (orders 6921000000000001–3 belong to demo-user):
      … -d '{"userId":"demo-user","text":"订单6921000000000001能包邮吗"}' ${api}/api/channels/app/messages

  Ctrl-C stops everything started here.
`);
}

main().catch((err) => {
  console.error('[start] failed:', err.message);
  stop(1);
});
