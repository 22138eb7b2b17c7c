import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ConversationActivities } from '../activities/types';
import { CsChannel, CsHandoffStatus, CsLastIntent, CsState, CsUserTier } from '../common/search-attributes';
import type { ConversationInput, ConversationView, InboundMessage, TranscriptEntry, TurnResult } from '../common/types';
import { CHART_VERSION, CONFIDENT_MARGIN, LEGACY_CONFIDENT_MARGIN, stateName, type ConversationSnapshot } from '../machines/conversation';
import { persistChart, restoreChart, runToRest, startChart, type ActorOutcome, type Invocation } from '../machines/interpret';
import type { ChartEvent } from '../machines/types';

export const messageUpdate = defineUpdate<TurnResult, [InboundMessage]>('message');
export const viewQuery = defineQuery<ConversationView>('view');

/** Failure type the API reads as "this conversation has ended, start a new one". */
export const CONVERSATION_CLOSED = 'ConversationClosed';

// Understanding reads an in-memory index: a local activity, retried once, then the chart's menu fallback.
const { understand } = proxyLocalActivities<ConversationActivities>({
  startToCloseTimeout: '2s',
  retry: { maximumAttempts: 2, initialInterval: '50ms' },
});
const { requestHandoff, lookupOrder } = proxyActivities<ConversationActivities>({
  startToCloseTimeout: '5s',
  retry: { maximumAttempts: 3, initialInterval: '200ms', backoffCoefficient: 2 },
});
// Closing must eventually happen, whatever the database is doing: retry without limit.
const { closeConversation } = proxyActivities<ConversationActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

const RECENT_RESULTS = 32;
const TRANSCRIPT_TAIL = 100;

/** One conversation: the durable interpreter of the dialogue chart. */
export async function conversation(input: ConversationInput): Promise<void> {
  const { settings } = input;
  let snapshot: ConversationSnapshot = input.carry
    ? restoreChart(input.carry.snapshot)
    : startChart({
        conversationId: input.conversationId,
        userId: input.userId,
        channel: input.channel,
        // Conversations recorded before the wider margin keep the old one, so their histories replay unchanged.
        confidentMargin: patched('clarify-margin-0.2') ? CONFIDENT_MARGIN : LEGACY_CONFIDENT_MARGIN,
      });
  let turns = input.carry?.turns ?? 0;
  const recent = new Map(input.carry?.recentResults ?? []);
  const transcript: TranscriptEntry[] = input.carry?.transcript ?? [];
  let turnsThisRun = 0;
  let lastActivity = Date.now();

  // Turns run one at a time, in arrival order, whatever the number of concurrent updates.
  let tail: Promise<unknown> = Promise.resolve();
  const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };
  const finished = () => snapshot.status === 'done';

  async function feed(event: ChartEvent): Promise<TurnResult> {
    snapshot = await runToRest(snapshot, event, runActor);
    const ctx = snapshot.context;
    for (const r of ctx.outbox) transcript.push({ from: 'bot', text: r.text, kind: r.kind, turn: ctx.turn });
    transcript.splice(0, Math.max(0, transcript.length - TRANSCRIPT_TAIL));
    publish();
    return {
      replies: ctx.outbox,
      state: stateName(snapshot),
      ...(ctx.lastIntent ? { intent: ctx.lastIntent } : {}),
      ...(ctx.emotion ? { emotion: ctx.emotion } : {}),
      ...(ctx.handoff ? { handoff: { status: ctx.handoff.status } } : {}),
      closed: finished(),
    };
  }

  // Search attributes and memo are upserted only when they change: each upsert is a history event.
  const published = new Map<string, string>();
  const channels = new Set<string>([input.channel]);
  let publishedMemo = '';
  // Histories recorded before this patch set the memo once at start; replay them unchanged.
  const memoFollowsConversation = patched('memo-follows-conversation');
  function publish(): void {
    const ctx = snapshot.context;
    channels.add(ctx.channel);
    const memo = { userId: input.userId, chartVersion: CHART_VERSION, channels: [...channels], topic: ctx.topic?.title ?? null, rejections: ctx.rejections };
    if (memoFollowsConversation && JSON.stringify(memo) !== publishedMemo) {
      publishedMemo = JSON.stringify(memo);
      upsertMemo(memo);
    }
    const wanted: Array<[typeof CsState, string | undefined]> = [
      [CsState, stateName(snapshot)],
      [CsChannel, ctx.channel],
      [CsLastIntent, ctx.lastIntent?.name],
      [CsHandoffStatus, ctx.handoff?.status],
    ];
    const changed = wanted.filter(([key, value]) => value !== undefined && published.get(key.name) !== value);
    if (changed.length === 0) return;
    for (const [key, value] of changed) published.set(key.name, value!);
    upsertSearchAttributes(changed.map(([key, value]) => ({ key, value: value! })));
  }

  setHandler(
    messageUpdate,
    (msg) =>
      serialize(async () => {
        const seen = recent.get(msg.messageId);
        if (seen) return seen; // a retry that crossed a continue-as-new
        if (finished()) throw ApplicationFailure.nonRetryable('conversation has ended', CONVERSATION_CLOSED);
        transcript.push({ from: 'user', text: msg.text ?? msg.dtmf ?? '', turn: turns + 1 });
        const result = await feed({ type: 'user.message', text: msg.text ?? '', dtmf: msg.dtmf, channel: msg.channel });
        turns++;
        turnsThisRun++;
        lastActivity = Date.now();
        recent.set(msg.messageId, result);
        if (recent.size > RECENT_RESULTS) recent.delete(recent.keys().next().value!);
        return result;
      }),
    {
      validator: (msg) => {
        if (finished()) throw new Error('conversation has ended');
        if (!msg.messageId) throw new Error('messageId is required');
      },
    },
  );

  setHandler(viewQuery, () => ({
    state: stateName(snapshot),
    turns,
    lastIntent: snapshot.context.lastIntent,
    handoff: snapshot.context.handoff,
    rejections: snapshot.context.rejections,
    transcript,
  }));

  upsertSearchAttributes([{ key: CsUserTier, value: input.userTier }]);
  if (!memoFollowsConversation) upsertMemo({ userId: input.userId, chartVersion: CHART_VERSION });
  publish();

  const shouldContinueAsNew = () => turnsThisRun >= settings.turnsPerRun || workflowInfo().continueAsNewSuggested;
  let closeReason: 'goodbye' | 'inactivity' = 'goodbye';
  // One inactivity timer that is re-armed only when it fires early, not a new timer per turn.
  while (!finished()) {
    const idleFor = Date.now() - lastActivity;
    if (idleFor >= settings.inactivityMs) {
      closeReason = 'inactivity';
      await serialize(() => feed({ type: 'session.timeout' }));
      break;
    }
    const woke = await condition(() => finished() || shouldContinueAsNew(), settings.inactivityMs - idleFor);
    if (woke && !finished()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof conversation>({
        ...input,
        carry: { snapshot: persistChart(snapshot), turns, recentResults: [...recent], transcript },
      });
    }
  }
  await condition(allHandlersFinished);
  await closeConversation({
    conversationId: input.conversationId,
    reason: closeReason,
    replies: closeReason === 'inactivity' ? snapshot.context.outbox : [],
  });
}

/** Run one chart actor as its activity; any failure becomes the chart's error event. */
async function runActor(inv: Invocation): Promise<ActorOutcome> {
  try {
    switch (inv.src) {
      case 'understand':
        return { ok: true, output: await understand(inv.input as Parameters<typeof understand>[0]) };
      case 'requestHandoff':
        return { ok: true, output: await requestHandoff(inv.input as Parameters<typeof requestHandoff>[0]) };
      case 'lookupOrder':
        return { ok: true, output: await lookupOrder(inv.input as Parameters<typeof lookupOrder>[0]) };
    }
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
