import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { KnowledgeHolder } from '../../activities/knowledge-holder';
import { ModelHolder } from '../../activities/model-holder';
import { makeUnderstand } from '../../activities/understand';
import { COMMITTED_CHART, publishCommittedChart } from '../../db/chart-registry';
import { buildChart, type Chart } from '../../machines/chart';
import { stateName, type ConversationSnapshot } from '../../machines/conversation';
import { runToRest, startChart, type ActorOutcome, type Invocation } from '../../machines/interpret';
import type { Lane } from './plan';
import { benchOrderLookup } from './script';

/** One turn run in-process: how long it took, whether it ran understanding, and where the chart came to rest. */
export interface FloorTurn {
  ms: number;
  understood: boolean;
  state: string;
  intent: string | null;
  text: string;
}

type RunActor = (inv: Invocation) => Promise<ActorOutcome>;

/** Lanes run untimed first, so JIT and the models' first calls are not in the figures (the full path is warmed too). */
const WARM_UP_LANES = 3;

/**
 * The floor: what a turn costs without Temporal, HTTP or the database. The committed chart, stepped by the
 * same interpreter the workflow uses, with the real `understand` activity (both ONNX models + retrieval);
 * the order lookup answers with the bench user's order and a handoff request is queued at once. Same lanes, same
 * script as the full-path run, one turn at a time on this process's one thread. Models and knowledge are
 * loaded from the bench's database first, as the worker loads them; nothing touches the database while timed.
 */
export async function runFloor(ds: DataSource, lanes: Lane[], cacheDir: string): Promise<FloorTurn[]> {
  const chart = await committedChart(ds);
  const runActor = await realActors(ds, cacheDir);
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
      let understood = false;
      const t0 = performance.now();
      snapshot = await runToRest(chart, snapshot, { type: 'user.message', text, channel: 'app' }, (inv) => {
        if (inv.src === 'understand') understood = true;
        return runActor(inv);
      });
      turns.push({ ms: performance.now() - t0, understood, state: stateName(snapshot), intent: snapshot.context.lastIntent?.name ?? null, text });
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

/** The chart's actors as the worker runs them, minus Temporal: a failure becomes the chart's error event. */
async function realActors(ds: DataSource, cacheDir: string): Promise<RunActor> {
  const knowledge = new KnowledgeHolder(ds);
  await knowledge.load();
  const models = new ModelHolder(ds, path.join(cacheDir, 'floor-models'));
  await models.refreshIfChanged();
  const understand = makeUnderstand(knowledge, models);
  return async (inv) => {
    try {
      switch (inv.src) {
        case 'understand':
          return { ok: true, output: await understand(inv.input) };
        case 'lookupOrder':
          return { ok: true, output: benchOrderLookup(inv.input) };
        case 'requestHandoff':
          return { ok: true, output: { ticketId: '1', status: 'queued' } };
        default:
          // An actor added to the chart later: its onError branch runs, and the floor still measures.
          return { ok: false, error: `no in-process stand-in for ${(inv as Invocation).src}` };
      }
    } catch (err) {
      return { ok: false, error: String(err) };
    }
  };
}
