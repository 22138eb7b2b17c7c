// Every setting comes from the environment; defaults suit a developer machine.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const env = process.env;

/** DATABASE_URL, else the project-local cluster scripts/setup.sh made (it writes .data/db.env), else the local server. */
function databaseUrl(): string {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  const dbEnvFile = path.join(__dirname, '..', '.data', 'db.env');
  const local = existsSync(dbEnvFile) ? readFileSync(dbEnvFile, 'utf8').match(/^DATABASE_URL=(.+)$/m) : null;
  return local ? local[1].trim() : 'postgres://postgres@127.0.0.1:5432/customer_service';
}

function int(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${raw}"`);
  return n;
}

export const config = {
  /** PostgreSQL connection string. */
  databaseUrl: databaseUrl(),
  /** PostgreSQL connections per process. */
  dbPoolSize: int('CS_DB_POOL', 10),
  /** Temporal frontend address and namespace. */
  temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  temporalNamespace: env.TEMPORAL_NAMESPACE ?? 'default',
  /** Without TEMPORAL_ADDRESS, `npm start` runs its own dev server. */
  runsOwnTemporal: !env.TEMPORAL_ADDRESS,
  temporalUiPort: int('TEMPORAL_UI_PORT', 8233),
  /** Path of the `temporal` CLI; found in Python's scripts folder or on PATH when unset. */
  temporalCli: env.TEMPORAL_CLI || undefined,
  taskQueue: env.CS_TASK_QUEUE ?? 'cs-conversations',
  /** Bearer token the channels present. */
  channelToken: env.CS_CHANNEL_TOKEN ?? 'dev-channel-token',
  /** Bearer token of the platform stand-in's admin API (/api/admin). */
  adminToken: env.CS_ADMIN_TOKEN ?? 'dev-admin-token',
  httpPort: int('PORT', 8080),
  /** Close a conversation after this long without a user message. */
  inactivityMs: int('CS_INACTIVITY_MS', 30 * 60 * 1000),
  /** Continue-as-new after this many turns (history stays small). */
  turnsPerRun: int('CS_TURNS_PER_RUN', 40),
  /** How long the API waits for the workflow's reply before answering 503. */
  replyTimeoutMs: int('CS_REPLY_TIMEOUT_MS', 15_000),
  /** Per-user rate limit: messages per window. */
  rateLimitMessages: int('CS_RATE_LIMIT', 30),
  rateLimitWindowMs: int('CS_RATE_WINDOW_MS', 10_000),
  /** Where workers write registry models for onnxruntime. */
  modelCacheDir: env.CS_MODEL_CACHE_DIR ?? path.join(__dirname, '..', '.data', 'models'),
  /** How often workers look for knowledge edits and newly published models. */
  refreshMs: int('CS_REFRESH_MS', 5000),
  /** The sentence encoder: CS_ENCODER=off keeps workers on the n-gram models; its onnxruntime threads per worker. */
  encoder: { enabled: env.CS_ENCODER !== 'off', threads: int('CS_ENCODER_THREADS', 1) },
  /** Compensation coupon budgets (yuan): per user over 30 days, coupons per conversation, the platform's daily total. */
  couponBudgets: {
    perUser30Days: int('CS_COUPON_USER_30D', 60),
    perConversation: int('CS_COUPON_PER_CONVERSATION', 1),
    dailyTotal: int('CS_COUPON_DAILY', 5000),
  },
  /** Snowflake node id (0–1023); give each process its own in production. */
  nodeId: int('CS_NODE_ID', process.pid % 1024),
};
