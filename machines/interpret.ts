import { initialTransition, transition } from 'xstate';
import { actorInputs, conversationMachine, type ActorSrc, type ConversationSnapshot } from './conversation';
import type { ChartEvent, ChartInput } from './types';

/** A request from the chart to run one of its actors. */
export interface Invocation {
  id: string;
  src: ActorSrc;
  input: unknown;
}

/** How an actor run ended; the interpreter turns it into the chart's done/error event. */
export type ActorOutcome = { ok: true; output: unknown } | { ok: false; error: string };

/**
 * Pure stepping of the chart with XState's transition(): effects come back as data and are
 * executed by the caller (the workflow with activities, tests and the designer with fakes).
 */
export function startChart(input: ChartInput): ConversationSnapshot {
  const [snapshot, actions] = initialTransition(conversationMachine, input);
  if (invocationsOf(snapshot, actions).length) throw new Error('the initial state may not invoke actors');
  return snapshot;
}

export function stepChart(snapshot: ConversationSnapshot, event: ChartEvent): [ConversationSnapshot, Invocation[]] {
  if (snapshot.status !== 'active') return [snapshot, []]; // a closed conversation takes no more events
  const [next, actions] = transition(conversationMachine, snapshot, event);
  return [next, invocationsOf(next, actions)];
}

function invocationsOf(snapshot: ConversationSnapshot, actions: ReadonlyArray<{ type: string; params?: unknown }>): Invocation[] {
  const out: Invocation[] = [];
  for (const a of actions) {
    if (a.type === 'xstate.raise' || a.type === 'xstate.sendTo') {
      throw new Error(`chart action ${a.type} is not supported by the durable interpreter`);
    }
    if (a.type !== 'xstate.spawnChild') continue;
    const { id, src } = a.params as { id: string; src: string };
    if (!(src in actorInputs)) throw new Error(`chart invokes unknown actor "${src}"`);
    out.push({ id, src: src as ActorSrc, input: actorInputs[src as ActorSrc](snapshot.context) });
  }
  return out;
}

/**
 * Feed one external event and run every invocation it leads to, one after another, until the
 * chart waits for the next external event.
 */
export async function runToRest(
  snapshot: ConversationSnapshot,
  event: ChartEvent,
  run: (inv: Invocation) => Promise<ActorOutcome>,
  maxSteps = 20,
): Promise<ConversationSnapshot> {
  let [current, pending] = stepChart(snapshot, event);
  for (let steps = 0; pending.length > 0; steps++) {
    if (steps >= maxSteps) throw new Error('chart kept invoking actors without waiting for the user');
    const inv = pending.shift()!;
    const outcome = await run(inv);
    const result = (
      outcome.ok
        ? { type: `xstate.done.actor.${inv.id}`, output: outcome.output }
        : { type: `xstate.error.actor.${inv.id}`, error: outcome.error }
    ) as ChartEvent;
    const [next, more] = stepChart(current, result);
    current = next;
    pending = [...pending, ...more];
  }
  return current;
}

/** JSON form of a snapshot, for continue-as-new and queries. */
export function persistChart(snapshot: ConversationSnapshot): unknown {
  return conversationMachine.getPersistedSnapshot(snapshot);
}

export function restoreChart(persisted: unknown): ConversationSnapshot {
  return conversationMachine.resolveState(persisted as Parameters<typeof conversationMachine.resolveState>[0]);
}
