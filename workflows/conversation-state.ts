import {
  ApplicationFailure,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { ConversationActivities } from '../activities/types';
import { CsChannel, CsChartVersion, CsHandoffStatus, CsLastIntent, CsState, CsUserTier } from '../common/search-attributes';
import type { CarriedState, ConversationInput, ConversationView, InboundMessage, TurnRecord, TurnResponse } from '../common/types';
import { buildChart, type Chart } from '../machines/chart';
import preRegistryChart from '../machines/charts/pre-registry.chart.json';
import { stateName, type ConversationSnapshot } from '../machines/conversation';
import { turnEvents } from '../machines/events';
import { persistChart, restoreChart, runToRest, startChart, type ActorOutcome, type Invocation } from '../machines/interpret';
import type { ChartEvent } from '../machines/types';
import { CHART_LOADING, CLOSING, CUSTOMER_LOOKUP, PLATFORM_CALLS, RECORDING, UNDERSTANDING } from './activity-options';

/** Failure type of a message sent to a conversation that has ended; the API starts a new one for it. */
export const CONVERSATION_CLOSED = 'ConversationClosed';

const { understand } = proxyLocalActivities<ConversationActivities>(UNDERSTANDING);
const { loadChart } = proxyLocalActivities<ConversationActivities>(CHART_LOADING);
const { recordTurn } = proxyLocalActivities<ConversationActivities>(RECORDING);
const { requestHandoff, lookupOrder, lookupCustomer, findOrders, lookupAccount, verifyIdentity, performAction, issueCoupon } =
  proxyActivities<ConversationActivities>(PLATFORM_CALLS);
// The tier is one indexed read: as a local activity it joins the chart load in the first workflow task instead of
// costing a second one before the first reply.
const { lookupCustomer: lookupCustomerLocally } = proxyLocalActivities<ConversationActivities>(CUSTOMER_LOOKUP);
const { closeConversation } = proxyActivities<ConversationActivities>(CLOSING);

/** Retries of a message that crossed a continue-as-new are answered from this many recent results. */
const RECENT_RESULTS = 32;
/** The tier of a user the platform could not tell us about. */
const FALLBACK_TIER = 'standard';
/**
 * Histories recorded before the chart registry ran on the chart compiled into the bundle, with the memo
 * and answer-margin behaviour of their time; they keep replaying on exactly that.
 */
const PRE_REGISTRY_VERSION = 0;
const PRE_REGISTRY_LABEL = '1.1.0';

/**
 * The state of one conversation and everything a turn does to it: the pinned chart, the chart snapshot,
 * reply numbering, search attributes and memo. The workflow function is a thin shell around it.
 */
export class ConversationState {
  private chart: Chart | undefined;
  private snapshot: ConversationSnapshot | undefined;
  private tier: string | null;
  private turns: number;
  private seq: number;
  private turnsThisRun = 0;
  private lastActivity = Date.now();
  private readonly recent: Map<string, TurnResponse>;
  private readonly channels: Set<string>;
  private readonly published = new Map<string, unknown>();
  private publishedMemo = '';
  /** Whether turns are recorded by the workflow (false only while replaying histories from before). */
  private recordsTurns = false;
  private memoFollowsConversation = true;
  /** Turns run one at a time, in arrival order, whatever the number of concurrent updates. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly input: ConversationInput) {
    this.turns = input.carry?.turns ?? 0;
    this.seq = input.carry?.seq ?? 1;
    this.tier = input.carry?.tier ?? null;
    this.recent = new Map(input.carry?.recentResults ?? []);
    this.channels = new Set([input.channel]);
  }

  /**
   * Pin the chart (and, for a new conversation, read the user's tier), then start or restore the chart;
   * turns wait for this. Call before the handlers are set: which chart a run uses is decided here,
   * synchronously, where earlier versions of this workflow made the same decisions.
   */
  begin(): void {
    const { carry, chartVersion } = this.input;
    if (carry?.chart) {
      this.recordsTurns = true;
      this.chart = buildChart(carry.chart.version, carry.chart.definition);
      this.startOrRestore();
    } else if (chartVersion !== undefined && patched('chart-registry')) {
      this.recordsTurns = true;
      this.tail = this.serialize(() => this.loadPinnedChart(chartVersion));
    } else {
      this.chart = this.preRegistryChart();
      this.startOrRestore();
      this.memoFollowsConversation = patched('memo-follows-conversation');
    }
  }

  /** Publish search attributes and memo once the handlers are set (after loading, for a pinned chart). */
  announce(): void {
    if (!this.snapshot) return; // loadPinnedChart announces when it is done
    if (this.chart?.version === PRE_REGISTRY_VERSION) {
      // As the workflow of that time did: the tier upserted at start, the memo set once unless it follows.
      upsertSearchAttributes([{ key: CsUserTier, value: this.input.userTier ?? FALLBACK_TIER }]);
      this.published.set(CsUserTier.name, this.input.userTier ?? FALLBACK_TIER);
      if (!this.memoFollowsConversation) upsertMemo({ userId: this.input.userId, chartVersion: PRE_REGISTRY_LABEL });
    }
    this.publish();
  }

  private async loadPinnedChart(version: number): Promise<void> {
    const [loaded, customer] = await Promise.all([
      loadChart({ version }),
      (patched('customer-lookup-local') ? lookupCustomerLocally : lookupCustomer)({ userId: this.input.userId }).catch((err) => {
        log.warn('tier lookup failed; using the fallback tier', { error: String(err) });
        return { tier: FALLBACK_TIER };
      }),
    ]);
    this.chart = buildChart(loaded.version, loaded.definition);
    this.tier = customer.tier;
    this.published.set(CsChartVersion.name, loaded.version); // set by the API when it started the workflow
    this.startOrRestore();
    this.announce();
  }

  private startOrRestore(): void {
    const { input } = this;
    const chart = this.loadedChart();
    this.snapshot = input.carry
      ? restoreChart(chart, input.carry.snapshot)
      : startChart(chart, { conversationId: input.conversationId, userId: input.userId, channel: input.channel, tier: this.tier ?? FALLBACK_TIER });
  }

  /** The chart compiled into the bundle, with the answer margin those conversations started with. */
  private preRegistryChart(): Chart {
    // A restored snapshot carries its own parameters; a new conversation starts with the margin of its time.
    const margin = this.input.carry ? preRegistryChart.params.confidentMargin : patched('clarify-margin-0.2') ? 0.2 : 0.1;
    return buildChart(PRE_REGISTRY_VERSION, { ...preRegistryChart, params: { ...preRegistryChart.params, confidentMargin: margin } });
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  get finished(): boolean {
    return this.snapshot?.status === 'done';
  }

  /** Update validator: a message to an ended conversation is refused before it reaches history. */
  validateMessage(msg: InboundMessage): void {
    if (this.finished) throw ApplicationFailure.nonRetryable('conversation has ended', CONVERSATION_CLOSED);
    if (!msg.messageId) throw ApplicationFailure.nonRetryable('messageId is required', 'InvalidMessage');
  }

  handleMessage(msg: InboundMessage): Promise<TurnResponse> {
    return this.serialize(async () => {
      const seen = this.recent.get(msg.messageId);
      if (seen) return seen; // a retry that crossed a continue-as-new
      if (this.finished) throw ApplicationFailure.nonRetryable('conversation has ended', CONVERSATION_CLOSED);
      const response = await this.runTurn({ type: 'user.message', text: msg.text ?? '', dtmf: msg.dtmf, channel: msg.channel }, msg);
      this.turns++;
      this.turnsThisRun++;
      this.lastActivity = Date.now();
      this.recent.set(msg.messageId, response);
      if (this.recent.size > RECENT_RESULTS) this.recent.delete(this.recent.keys().next().value!);
      return response;
    });
  }

  /** The inactivity timer fired: the chart says goodbye, and that note is recorded like any turn. */
  timeOut(): Promise<TurnResponse> {
    return this.serialize(() => this.runTurn({ type: 'session.timeout' }, null));
  }

  private async runTurn(event: ChartEvent, msg: InboundMessage | null): Promise<TurnResponse> {
    const chart = this.loadedChart();
    const before = this.current();
    const snapshot = await runToRest(chart, before, event, runActor);
    this.snapshot = snapshot;
    this.publish();
    const ctx = snapshot.context;
    const state = stateName(snapshot);
    const response: Omit<TurnResponse, 'replies'> = {
      conversationId: this.input.conversationId,
      messageId: msg ? (msg.clientMessageId ?? msg.messageId) : '',
      state,
      ...(ctx.lastIntent ? { intent: ctx.lastIntent } : {}),
      ...(ctx.emotion ? { emotion: ctx.emotion } : {}),
      ...(ctx.handoff ? { handoff: { status: ctx.handoff.status, ...(ctx.handoff.queue ? { queue: ctx.handoff.queue } : {}) } } : {}),
      actions: ctx.actions ?? [],
    };
    const replies = ctx.outbox.map((r, i) => ({ ...r, seq: this.seq + i, sender: 'bot' as const }));
    this.seq += replies.length;
    // Histories from before the workflow recorded its turns replay without the recording.
    this.recordsTurns ||= patched('turns-recorded-by-workflow');
    if (!this.recordsTurns) return { ...response, replies: replies.map(({ text, kind, options }) => ({ id: '', text, kind, options })) };
    const record: TurnRecord = {
      conversationId: this.input.conversationId,
      userMessageId: msg?.messageId ?? null,
      turn: ctx.turn,
      replies,
      response,
      state,
      tier: this.tier,
      closed: snapshot.status === 'done',
      event: {
        channel: ctx.channel,
        intent: ctx.lastIntent?.name ?? null,
        topic: ctx.topic?.intent ?? null,
        emotion: ctx.emotion?.label ?? null,
        chartVersion: chart.version,
        types: turnEvents(before, snapshot, msg !== null),
        payload: { trigger: msg ? 'message' : 'timer', replies: replies.length, actions: ctx.actions ?? [] },
      },
    };
    return recordTurn(record);
  }

  /** Mark the conversation closed in the store (its last turn already recorded why). */
  async close(reason: 'goodbye' | 'inactivity'): Promise<void> {
    await closeConversation({ conversationId: this.input.conversationId, reason });
  }

  idleFor(): number {
    return Date.now() - this.lastActivity;
  }

  shouldContinueAsNew(turnsPerRun: number): boolean {
    return this.turnsThisRun >= turnsPerRun || workflowInfo().continueAsNewSuggested;
  }

  /** The input of the next run: the chart (definition and snapshot) and everything else that must survive. */
  continueAsNewInput(): ConversationInput {
    const chart = this.loadedChart();
    const carry: CarriedState = {
      snapshot: persistChart(chart, this.current()),
      turns: this.turns,
      chart: { version: chart.version, definition: chart.definition },
      tier: this.tier ?? undefined,
      seq: this.seq,
      recentResults: [...this.recent],
    };
    return { ...this.input, carry };
  }

  view(): ConversationView {
    const ctx = this.snapshot?.context;
    return {
      state: this.snapshot ? stateName(this.snapshot) : 'starting',
      chartVersion: this.chart?.version ?? this.input.chartVersion ?? PRE_REGISTRY_VERSION,
      tier: this.tier,
      turns: this.turns,
      lastIntent: ctx?.lastIntent ?? null,
      handoff: ctx?.handoff ?? null,
      rejections: ctx?.rejections ?? 0,
    };
  }

  /** Search attributes and memo, upserted only when they change: each upsert is a history event. */
  private publish(): void {
    const { context: ctx } = this.current();
    const chart = this.loadedChart();
    this.channels.add(ctx.channel);
    const memo = {
      userId: this.input.userId,
      chartVersion: chart.version === PRE_REGISTRY_VERSION ? PRE_REGISTRY_LABEL : chart.version,
      channels: [...this.channels],
      topic: ctx.topic?.title ?? null,
      rejections: ctx.rejections,
    };
    if (this.memoFollowsConversation && JSON.stringify(memo) !== this.publishedMemo) {
      this.publishedMemo = JSON.stringify(memo);
      upsertMemo(memo);
    }
    const wanted: SearchAttributeUpdatePair[] = [
      { key: CsState, value: stateName(this.current()) },
      { key: CsChannel, value: ctx.channel },
      ...(ctx.lastIntent ? [{ key: CsLastIntent, value: ctx.lastIntent.name }] : []),
      ...(ctx.handoff ? [{ key: CsHandoffStatus, value: ctx.handoff.status }] : []),
      ...(this.tier ? [{ key: CsUserTier, value: this.tier }] : []),
    ];
    const changed = wanted.filter((pair) => this.published.get(pair.key.name) !== pair.value);
    if (changed.length === 0) return;
    for (const pair of changed) this.published.set(pair.key.name, pair.value);
    upsertSearchAttributes(changed);
  }

  private loadedChart(): Chart {
    if (!this.chart) throw new Error('the chart is not loaded yet');
    return this.chart;
  }

  private current(): ConversationSnapshot {
    if (!this.snapshot) throw new Error('the chart has not started yet');
    return this.snapshot;
  }
}

/** Run one chart actor as its activity; any failure becomes the chart's error event. */
async function runActor(inv: Invocation): Promise<ActorOutcome> {
  try {
    switch (inv.src) {
      case 'understand':
        return { ok: true, output: await understand(inv.input) };
      case 'requestHandoff':
        return { ok: true, output: await requestHandoff(inv.input) };
      case 'lookupOrder':
        return { ok: true, output: await lookupOrder(inv.input) };
      case 'findOrders':
        return { ok: true, output: await findOrders(inv.input) };
      case 'lookupAccount':
        return { ok: true, output: await lookupAccount(inv.input) };
      case 'verifyIdentity':
        return { ok: true, output: await verifyIdentity(inv.input) };
      case 'performAction':
        return { ok: true, output: await performAction(inv.input) };
      case 'issueCoupon':
        return { ok: true, output: await issueCoupon(inv.input) };
    }
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
