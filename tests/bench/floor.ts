import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createActivities } from '../../activities';
import { EncoderHolder } from '../../activities/encoder-holder';
import { KnowledgeHolder } from '../../activities/knowledge-holder';
import { ModelHolder } from '../../activities/model-holder';
import { Snowflake } from '../../common/snowflake';
import { COMMITTED_CHART, publishCommittedChart } from '../../db/chart-registry';
import { buildChart, type Chart } from '../../machines/chart';
import { stateName, type ConversationSnapshot } from '../../machines/conversation';
import { runToRest, startChart, type ActorOutcome, type Invocation } from '../../machines/interpret';
import type { Lane } from './plan';

/** One turn run in-process: how long it took, which actors it ran, and where the chart came to rest. */
export interface FloorTurn {
  ms: number;
  understood: boolean;
  /** It also ran a platform lookup (order, orders, account), which reads PostgreSQL as in the worker. */
  lookedUpPlatform: boolean;
  state: string;
  intent: string | null;
  text: string;
}

type RunActor = (inv: Invocation) => Promise<ActorOutcome>;

/** Snowflake node of the floor's ids (the bench's worker and API are 11 and 12). */
const FLOOR_NODE_ID = 13;

/** Lanes run untimed first, so JIT and the models' first calls are not in the figures (the full path is warmed too). */
const WARM_UP_LANES = 3;

/**
 * The floor: what a turn costs without Temporal, HTTP or storing the turn. The committed chart, stepped by the
 * same interpreter the workflow uses, with the worker's own activities: `understand` (both ONNX models +
 * retrieval, in memory) and, when the chart asks, the platform lookups, which read PostgreSQL as they do in
 * the worker (FloorTurn.lookedUpPlatform tells those turns apart). Same lanes, same script, same bench users
 * as the full-path run, one turn at a time on this process's one thread.
 */
export async function runFloor(ds: DataSource, lanes: Lane[], cacheDir: string): Promise<FloorTurn[]> {
  const chart = await committedChart(ds);
  const runActor = await workerActivities(ds, cacheDir);
  await runLanes(chart, runActor, lanes.slice(0, WARM_UP_LANES));
  return runLanes(chart, runActor, lanes);
}

async function runLanes(chart: Chart, runActor: RunActor, lanes: Lane[]): Promise<FloorTurn[]> {
  const snapshots = new Map<string, ConversationSnapshot>(); // one conversation per user, as in the API
  const turns: FloorTurn[] = [];
  for (const lane of lanes) {
    for (const { userId, text } of lane) {
      let snapshot =
        snapshots.get(userId) ?? startChart(chart, { conversationId: String(snapshots.size + 1), userId, channel: 'app', tier: 'standard' });
      const ran = new Set<string>();
      const t0 = performance.now();
      snapshot = await runToRest(chart, snapshot, { type: 'user.message', text, channel: 'app' }, (inv) => {
        ran.add(inv.src);
        return runActor(inv);
      });
      const ms = performance.now() - t0;
      const lookedUpPlatform = [...ran].some((src) => src !== 'understand' && src !== 'requestHandoff');
      turns.push({ ms, understood: ran.has('understand'), lookedUpPlatform, state: stateName(snapshot), intent: snapshot.context.lastIntent?.name ?? null, text });
      snapshots.set(userId, snapshot);
    }
  }
  return turns;
}

/** The committed chart, under the version number the bench's registry gave it (what the worker runs). */
async function committedChart(ds: DataSource): Promise<Chart> {
  const { version } = await publishCommittedChart(ds);
  return buildChart(version, JSON.parse(readFileSync(COMMITTED_CHART, 'utf8')));
}

/**
 * The chart's actors run by the worker's own activity implementations (activities/index.ts), called directly:
 * whatever the chart invokes, the floor runs what the worker would. A failure becomes the chart's error event.
 */
async function workerActivities(ds: DataSource, cacheDir: string): Promise<RunActor> {
  const encoder = new EncoderHolder();
  await encoder.load();
  const knowledge = new KnowledgeHolder(ds, () => encoder.current());
  await knowledge.load();
  await knowledge.semanticReady();
  const models = new ModelHolder(ds, path.join(cacheDir, 'floor-models'));
  await models.refreshIfChanged();
  const activities = createActivities({ ds, knowledge, models, encoder, ids: new Snowflake(FLOOR_NODE_ID) });
  return async (inv) => {
    try {
      const activity = activities[inv.src] as (input: unknown) => Promise<unknown>;
      return { ok: true, output: await activity(inv.input) };
    } catch (err) {
      return { ok: false, error: String(err) };
    }
  };
}
