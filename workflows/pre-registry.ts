import { upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { CsUserTier } from '../common/search-attributes';
import { buildChart, type Chart } from '../machines/chart';
import frozen from '../machines/charts/pre-registry.chart.json';
import { FALLBACK_TIER } from './pinned-chart';
import type { ConversationVisibility } from './visibility';

/**
 * Histories recorded before the chart registry ran on the chart compiled into the bundle, with the memo and
 * answer-margin behaviour of their time; they keep replaying on exactly that (frozen file, version 0).
 */
export const PRE_REGISTRY_VERSION = 0;
export const PRE_REGISTRY_LABEL = '1.1.0';

/** That chart, with the answer margin its conversations started with (a restored snapshot carries its own). */
export function preRegistryChart(restored: boolean, widerMargin: () => boolean): Chart {
  const margin = restored ? frozen.params.confidentMargin : widerMargin() ? 0.2 : 0.1;
  return buildChart(PRE_REGISTRY_VERSION, { ...frozen, params: { ...frozen.params, confidentMargin: margin } });
}

/** As the workflow of that time did: the tier upserted at start, the memo set once unless it follows the conversation. */
export function announcePreRegistry(visibility: ConversationVisibility, userId: string, userTier: string | undefined): void {
  const tier = userTier ?? FALLBACK_TIER;
  upsertSearchAttributes([{ key: CsUserTier, value: tier }]);
  visibility.alreadyPublished(CsUserTier.name, tier);
  if (!visibility.memoFollowsConversation) upsertMemo({ userId, chartVersion: PRE_REGISTRY_LABEL });
}
