import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import { CsChartVersion } from '../common/search-attributes';
import type { ConversationInput, ConversationView, InboundMessage, TurnResponse } from '../common/types';
import { buildChart, type Chart } from '../machines/chart';
import type { ConversationSnapshot } from '../machines/conversation';
import { persistChart, restoreChart, runToRest, startChart } from '../machines/interpret';
import type { ChartEvent } from '../machines/types';
import { closeConversation, recordTurn, runActor } from './activities';
import { FALLBACK_TIER, loadPinnedChart } from './pinned-chart';
import { announcePreRegistry, PRE_REGISTRY_LABEL, PRE_REGISTRY_VERSION, preRegistryChart } from './pre-registry';
import { RecentResults } from './recent-results';
import { TurnQueue } from './turn-queue';
import { turnRecord, unrecordedResponse } from './turn-record';
import { ConversationVisibility, conversationView } from './visibility';

/** Failure type of a message sent to a conversation that has ended; the API starts a new one for it. */
export const CONVERSATION_CLOSED = 'ConversationClosed';

/**
 * The state of one conversation and what a turn does to it: the pinned chart, its snapshot, reply numbering,
 * recent results; it produces the continue-as-new input. The workflow function is a thin shell around it.
 */
export class ConversationState {
  private chart: Chart | undefined;
  private snapshot: ConversationSnapshot | undefined;
  private tier: string | null;
  private turns: number;
  private seq: number;
  private turnsThisRun = 0;
  private lastActivity = Date.now();
  private readonly recent: RecentResults;
  private readonly visibility: ConversationVisibility;
  /** Whether turns are recorded by the workflow (false only while replaying histories from before). */
  private recordsTurns = false;
  private readonly queue = new TurnQueue();

  constructor(private readonly input: ConversationInput) {
    this.turns = input.carry?.turns ?? 0;
    this.seq = input.carry?.seq ?? 1;
    this.tier = input.carry?.tier ?? null;
    this.recent = new RecentResults(input.carry?.recentResults);
    this.visibility = new ConversationVisibility(input.userId, input.channel);
  }

  /**
   * Pin the chart (and, for a new conversation, read the user's tier), then start or restore the chart; turns wait
   * for this. Call before the handlers are set: which chart a run uses is decided here, synchronously, where earlier
   * versions of this workflow made the same decisions.
   */
  begin(): void {
    const { carry, chartVersion } = this.input;
    if (carry?.chart) {
      this.recordsTurns = true;
      this.chart = buildChart(carry.chart.version, carry.chart.definition);
      this.startOrRestore();
    } else if (chartVersion !== undefined && patched('chart-registry')) {
      this.recordsTurns = true;
      this.queue.gate(() => this.pin(chartVersion));
    } else {
      this.chart = preRegistryChart(!!carry, () => patched('clarify-margin-0.2'));
      this.startOrRestore();
      this.visibility.memoFollowsConversation = patched('memo-follows-conversation');
    }
  }

  /** Publish search attributes and memo once the handlers are set (after loading, for a pinned chart). */
  announce(): void {
    if (!this.snapshot) return; // loadPinnedChart announces when it is done
    if (this.chart?.version === PRE_REGISTRY_VERSION) announcePreRegistry(this.visibility, this.input.userId, this.input.userTier);
    this.publish();
  }

  private async pin(version: number): Promise<void> {
    ({ chart: this.chart, tier: this.tier } = await loadPinnedChart(version, this.input.userId));
    this.visibility.alreadyPublished(CsChartVersion.name, this.chart.version); // set by the API when it started the workflow
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

  get finished(): boolean {
    return this.snapshot?.status === 'done';
  }

  /** Update validator: a message to an ended conversation is refused before it reaches history. */
  validateMessage(msg: InboundMessage): void {
    if (this.finished) throw ApplicationFailure.nonRetryable('conversation has ended', CONVERSATION_CLOSED);
    if (!msg.messageId) throw ApplicationFailure.nonRetryable('messageId is required', 'InvalidMessage');
  }

  handleMessage(msg: InboundMessage): Promise<TurnResponse> {
    return this.queue.run(async () => {
      const seen = this.recent.get(msg.messageId);
      if (seen) return seen; // a retry that crossed a continue-as-new
      if (this.finished) throw ApplicationFailure.nonRetryable('conversation has ended', CONVERSATION_CLOSED);
      const response = await this.runTurn({ type: 'user.message', text: msg.text ?? '', dtmf: msg.dtmf, channel: msg.channel }, msg);
      this.turns++;
      this.turnsThisRun++;
      this.lastActivity = Date.now();
      this.recent.add(msg.messageId, response);
      return response;
    });
  }

  /** The inactivity timer fired: the chart says goodbye, and that note is recorded like any turn. */
  timeOut(): Promise<TurnResponse> {
    return this.queue.run(() => this.runTurn({ type: 'session.timeout' }, null));
  }

  private async runTurn(event: ChartEvent, msg: InboundMessage | null): Promise<TurnResponse> {
    const chart = this.loadedChart();
    const before = this.current();
    this.snapshot = await runToRest(chart, before, event, runActor);
    this.publish();
    const record = turnRecord({
      conversationId: this.input.conversationId,
      msg,
      before,
      after: this.snapshot,
      chartVersion: chart.version,
      tier: this.tier,
      firstSeq: this.seq,
    });
    this.seq += record.replies.length;
    // Histories from before the workflow recorded its turns replay without the recording.
    this.recordsTurns ||= patched('turns-recorded-by-workflow');
    return this.recordsTurns ? recordTurn(record) : unrecordedResponse(record);
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
    return {
      ...this.input,
      carry: {
        snapshot: persistChart(chart, this.current()),
        turns: this.turns,
        chart: { version: chart.version, definition: chart.definition },
        tier: this.tier ?? undefined,
        seq: this.seq,
        recentResults: this.recent.toCarry(),
      },
    };
  }

  view(): ConversationView {
    return conversationView(this.snapshot, this.chart?.version ?? this.input.chartVersion ?? PRE_REGISTRY_VERSION, this.tier, this.turns);
  }

  private publish(): void {
    const chart = this.loadedChart();
    this.visibility.publish(this.current(), chart.version === PRE_REGISTRY_VERSION ? PRE_REGISTRY_LABEL : chart.version, this.tier);
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
