import { upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { CsChannel, CsHandoffStatus, CsLastIntent, CsState, CsUserTier } from '../common/search-attributes';
import { stateName, type ConversationSnapshot } from '../machines/conversation';
import type { ConversationView } from '../common/types';

/**
 * What ops see of a conversation in the Temporal UI: search attributes and memo, upserted only when they change
 * (each upsert is a history event).
 */
export class ConversationVisibility {
  private readonly published = new Map<string, unknown>();
  private readonly channels: Set<string>;
  private publishedMemo = '';
  /** False only for histories recorded before the memo followed the conversation. */
  memoFollowsConversation = true;

  constructor(
    private readonly userId: string,
    channel: string,
  ) {
    this.channels = new Set([channel]);
  }

  /** A value already set some other way (at the start, by the API): not upserted again. */
  alreadyPublished(key: string, value: unknown): void {
    this.published.set(key, value);
  }

  publish(snapshot: ConversationSnapshot, chartLabel: string | number, tier: string | null): void {
    const ctx = snapshot.context;
    this.channels.add(ctx.channel);
    const memo = {
      userId: this.userId,
      chartVersion: chartLabel,
      channels: [...this.channels],
      topic: ctx.topic?.title ?? null,
      rejections: ctx.rejections,
    };
    if (this.memoFollowsConversation && JSON.stringify(memo) !== this.publishedMemo) {
      this.publishedMemo = JSON.stringify(memo);
      upsertMemo(memo);
    }
    const wanted: SearchAttributeUpdatePair[] = [
      { key: CsState, value: stateName(snapshot) },
      { key: CsChannel, value: ctx.channel },
      ...(ctx.lastIntent ? [{ key: CsLastIntent, value: ctx.lastIntent.name }] : []),
      ...(ctx.handoff ? [{ key: CsHandoffStatus, value: ctx.handoff.status }] : []),
      ...(tier ? [{ key: CsUserTier, value: tier }] : []),
    ];
    const changed = wanted.filter((pair) => this.published.get(pair.key.name) !== pair.value);
    if (changed.length === 0) return;
    for (const pair of changed) this.published.set(pair.key.name, pair.value);
    upsertSearchAttributes(changed);
  }
}

/** What the `view` query answers: where the conversation stands ('starting' while its chart loads). */
export function conversationView(snapshot: ConversationSnapshot | undefined, chartVersion: number, tier: string | null, turns: number): ConversationView {
  const ctx = snapshot?.context;
  return {
    state: snapshot ? stateName(snapshot) : 'starting',
    chartVersion,
    tier,
    turns,
    lastIntent: ctx?.lastIntent ?? null,
    handoff: ctx?.handoff ?? null,
    rejections: ctx?.rejections ?? 0,
  };
}
