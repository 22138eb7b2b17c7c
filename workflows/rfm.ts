import { proxyActivities } from '@temporalio/workflow';
import type { TierRecomputeResult } from '../activities/rfm';
import type { ConversationActivities } from '../activities/types';
import { TIER_RECOMPUTE } from './activity-options';

const { computeRfmTiers } = proxyActivities<ConversationActivities>(TIER_RECOMPUTE);

export interface RecomputeTiersInput {
  /** The instant to compute as of (ISO); by default the workflow's start, which history then keeps for retries. */
  asOf?: string;
}

/**
 * Recompute every rfm-managed user's tier from their orders and recharges of the last year (activities/rfm.ts) and
 * report how many users each tier has. Started daily by the `cs-rfm-daily` schedule and on demand by the admin API.
 */
export async function recomputeTiers(input: RecomputeTiersInput = {}): Promise<TierRecomputeResult> {
  // Workflow time is deterministic, so a replay and every activity attempt compute as of the same instant.
  return computeRfmTiers({ asOf: input.asOf ?? new Date().toISOString() });
}
