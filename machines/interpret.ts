import { initialTransition, transition } from 'xstate';
import type { Chart } from './chart';
import { actorInputs, isActorSrc, type ActorSrc, type ConversationSnapshot } from './conversation';
import type { ChartContext, ChartEvent, ChartInput } from './types';

/** A request from the chart to run one of its actors. */
export type Invocation = { [S in ActorSrc]: { id: string; src: S; input: ReturnType<(typeof actorInputs)[S]> } }[ActorSrc];

/** How an actor run ended; the interpreter turns it into the chart's done/error event. */
export type ActorOutcome = { ok: true; output: unknown } | { ok: false; error: string };

/**
 * Pure stepping of the chart with XState's transition(): effects come back as data and are
 * executed by the caller (the workflow with activities, tests and the designer with fakes).
 */
export function startChart(chart: Chart, input: Omit<ChartInput, 'params'>): ConversationSnapshot {
  const [snapshot, actions] = initialTransition(chart.machine, { ...input, params: chart.definition.params });
  if (invocationsOf(snapshot, actions).length) throw new Error('the initial state may not invoke actors');
  return snapshot;
}

export function stepChart(chart: Chart, snapshot: ConversationSnapshot, event: ChartEvent): [ConversationSnapshot, Invocation[]] {
  if (snapshot.status !== 'active') return [snapshot, []]; // a closed conversation takes no more events
  const [next, actions] = transition(chart.machine, snapshot, event);
  return [next, invocationsOf(next, actions)];
}

function invocation(src: ActorSrc, id: string, context: ChartContext): Invocation {
  switch (src) {
    case 'understand':
      return { id, src, input: actorInputs.understand(context) };
    case 'lookupOrder':
      return { id, src, input: actorInputs.lookupOrder(context) };
    case 'requestHandoff':
      return { id, src, input: actorInputs.requestHandoff(context) };
    case 'findOrders':
      return { id, src, input: actorInputs.findOrders(context) };
    case 'lookupAccount':
      return { id, src, input: actorInputs.lookupAccount(context) };
    case 'verifyIdentity':
      return { id, src, input: actorInputs.verifyIdentity(context) };
    case 'performAction':
      return { id, src, input: actorInputs.performAction(context) };
    case 'issueCoupon':
      return { id, src, input: actorInputs.issueCoupon(context) };
  }
}

function invocationsOf(snapshot: ConversationSnapshot, actions: ReadonlyArray<{ type: string; params?: unknown }>): Invocation[] {
  const out: Invocation[] = [];
  for (const a of actions) {
    if (a.type === 'xstate.raise' || a.type === 'xstate.sendTo') {
      throw new Error(`chart action ${a.type} is not supported by the durable interpreter`);
    }
    if (a.type !== 'xstate.spawnChild') continue;
    const { id, src } = (a.params ?? {}) as { id?: string; src?: unknown };
    if (typeof src !== 'string' || !isActorSrc(src) || !id) throw new Error(`chart invokes unknown actor "${String(src)}"`);
    out.push(invocation(src, id, snapshot.context));
  }
  return out;
}

/** The chart's event for an actor's outcome. */
function outcomeEvent(inv: Invocation, outcome: ActorOutcome): ChartEvent {
  return (
    outcome.ok
      ? { type: `xstate.done.actor.${inv.id}`, output: outcome.output }
      : { type: `xstate.error.actor.${inv.id}`, error: outcome.error }
  ) as ChartEvent; // the output's type is the actor's; the workflow and tests run the right activity per src
}

/**
 * Feed one external event and run every invocation it leads to, one after another, until the
 * chart waits for the next external event.
 */
export async function runToRest(
  chart: Chart,
  snapshot: ConversationSnapshot,
  event: ChartEvent,
  run: (inv: Invocation) => Promise<ActorOutcome>,
  maxSteps = 20,
): Promise<ConversationSnapshot> {
  let [current, pending] = stepChart(chart, snapshot, event);
  for (let steps = 0; pending.length > 0; steps++) {
    if (steps >= maxSteps) throw new Error('chart kept invoking actors without waiting for the user');
    const inv = pending.shift()!;
    const [next, more] = stepChart(chart, current, outcomeEvent(inv, await run(inv)));
    current = next;
    pending = [...pending, ...more];
  }
  return current;
}

/** JSON form of a snapshot, for continue-as-new. */
export function persistChart(chart: Chart, snapshot: ConversationSnapshot): unknown {
  return chart.machine.getPersistedSnapshot(snapshot);
}

/**
 * Rebuild a snapshot saved by persistChart. Snapshots saved before chart parameters were data have no
 * `params`: they get the chart's, with the answer margin the conversation started on.
 */
export function restoreChart(chart: Chart, persisted: unknown): ConversationSnapshot {
  const saved = persisted as { context: Partial<ChartContext> & { confidentMargin?: number } };
  if (!saved.context.params) {
    const { confidentMargin, ...context } = saved.context;
    saved.context = { ...context, tier: context.tier ?? 'standard', params: { ...chart.definition.params, confidentMargin: confidentMargin ?? 0.1 } };
  }
  return chart.machine.resolveState(saved as Parameters<typeof chart.machine.resolveState>[0]);
}
