import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, type Worker } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import { config } from '../../common/config';
import { searchAttributeKeys } from '../../common/search-attributes';
import { Snowflake } from '../../common/snowflake';
import type { ConversationSettings } from '../../common/types';
import { ensureDatabase, openDatabase } from '../../db/data-source';
import { seedKnowledge } from '../../knowledge/store';
import { PlatformStore } from '../../platform/store';
import { publishArtifacts } from '../../models/registry';
import path from 'node:path';
import { devServerFlags, temporalBinary } from '../../scripts/temporal-cli';
import { createApp } from '../../server/app';
import { TierRecompute } from '../../server/tier-recompute';
import { ConversationGateway } from '../../server/conversation-gateway';
import { ConversationService } from '../../server/conversation-service';
import { MessageFeed } from '../../server/message-feed';
import { ConversationStore } from '../../db/conversation-store';
import { IdentityStore } from '../../db/identity-store';
import { publishCommittedChart } from '../../db/chart-registry';
import { RateLimiter } from '../../server/rate-limit';
import { createConversationWorker } from '../../worker/create';
import type { EncoderHolder } from '../../activities/encoder-holder';

export const TOKEN = 'test-token';
export const ADMIN_TOKEN = 'test-admin-token';

let runtimeInstalled = false;

/** A real Temporal dev server (the installed CLI) with our search attributes, in memory. */
export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never });
    runtimeInstalled = true;
  }
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinary() },
      searchAttributes: searchAttributeKeys,
      // createLocal registers the search attributes itself; pass the other dev-server flags.
      extraArgs: devServerFlags.filter((f, i, all) => !f.startsWith('--search-attribute') && !all[i - 1]?.startsWith('--search-attribute')),
      log: { format: 'pretty', level: 'warn' },
    },
  });
}

/** A fresh, migrated database with the knowledge and the committed models published. */
export async function seededDatabase(name: string): Promise<{ ds: DataSource; url: string }> {
  const url = await freshDatabase(name);
  const ds = await openDatabase(url);
  await seedKnowledge(ds);
  await publishArtifacts(ds);
  await publishCommittedChart(ds);
  return { ds, url };
}

/** A fresh database named after the test file, dropped first so every run starts clean. */
export async function freshDatabase(name: string): Promise<string> {
  const url = new URL(config.databaseUrl);
  url.pathname = `/cs_test_${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const { Client: PgClient } = await import('pg');
  const pg = new PgClient({ connectionString: admin.toString() });
  await pg.connect();
  await pg.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
  await pg.end();
  await ensureDatabase(url.toString());
  return url.toString();
}

export interface Stack {
  env: TestWorkflowEnvironment;
  ds: DataSource;
  feed: MessageFeed;
  client: Client;
  taskQueue: string;
  baseUrl: string;
  /** Start the worker; `encoder` replaces the process's shared sentence encoder (e.g. one that failed to load). */
  startWorker(opts?: { encoder?: EncoderHolder }): Promise<void>;
  stopWorker(): Promise<void>;
  post(channel: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  get(path: string): Promise<{ status: number; body: any }>;
  /** A call of the admin API (platform stand-in, chart registry) with the admin token. */
  admin(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: any }>;
  teardown(): Promise<void>;
}

/** Real Temporal dev server (the installed CLI), real PostgreSQL, the real worker and HTTP API. */
export async function startStack(name: string, opts: { settings?: Partial<ConversationSettings>; replyTimeoutMs?: number } = {}): Promise<Stack> {
  const { ds, url } = await seededDatabase(name);
  const feed = new MessageFeed(url, 200);
  await feed.start();
  const env = await startTemporal();
  const taskQueue = `cs-test-${name}`;
  const settings: ConversationSettings = { inactivityMs: 10 * 60_000, turnsPerRun: 40, ...opts.settings };
  const gateway = new ConversationGateway(env.client, taskQueue, settings, opts.replyTimeoutMs ?? 20_000);
  const store = new ConversationStore(ds, new Snowflake(1));
  const app = createApp({
    ds,
    conversations: new ConversationService(store, gateway, new IdentityStore(ds), new PlatformStore(ds)),
    store,
    feed,
    channelToken: TOKEN,
    rateLimiter: new RateLimiter(1000, 1000),
    admin: { store: new PlatformStore(ds), token: ADMIN_TOKEN, tiers: new TierRecompute(env.client, taskQueue) },
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let worker: Worker | undefined;
  let stopWatching: (() => void) | undefined;
  let running: Promise<void> | undefined;
  const stack: Stack = {
    env,
    ds,
    feed,
    client: env.client,
    taskQueue,
    baseUrl,
    async startWorker(opts = {}) {
      ({ worker, stopWatching } = await createConversationWorker({
        ...opts,
        connection: env.nativeConnection,
        namespace: 'default',
        taskQueue,
        ds,
        nodeId: 2,
        modelCacheDir: path.join(__dirname, '../.tmp', `models-${name}`),
        refreshMs: 300,
      }));
      running = worker.run();
    },
    async stopWorker() {
      stopWatching?.();
      worker?.shutdown();
      await running;
      worker = undefined;
    },
    async post(channel, body, headers = {}) {
      const res = await fetch(`${baseUrl}/api/channels/${channel}/messages`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json(), headers: res.headers };
    },
    async get(path) {
      const res = await fetch(`${baseUrl}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      return { status: res.status, body: await res.json() };
    },
    async admin(method, path, body) {
      const res = await fetch(`${baseUrl}/api/admin${path}`, {
        method,
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: await res.json() };
    },
    async teardown() {
      await new Promise((r) => server.close(r));
      if (worker) await stack.stopWorker();
      await env.teardown();
      await feed.stop();
      await ds.destroy();
    },
  };
  await stack.startWorker();
  return stack;
}
