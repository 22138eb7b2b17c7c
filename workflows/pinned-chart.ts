import { log, patched } from '@temporalio/workflow';
import { buildChart, type Chart } from '../machines/chart';
import { loadChart, lookupCustomer, lookupCustomerLocally } from './activities';

/** The tier of a user the platform could not tell us about. */
export const FALLBACK_TIER = 'standard';

/**
 * A new conversation's pinned chart version and the user's tier, read together before the first turn (the tier by
 * local activity since `patched('customer-lookup-local')`); a failed tier lookup gives the fallback tier.
 */
export async function loadPinnedChart(version: number, userId: string): Promise<{ chart: Chart; tier: string }> {
  const readTier = patched('customer-lookup-local') ? lookupCustomerLocally : lookupCustomer;
  const [loaded, customer] = await Promise.all([
    loadChart({ version }),
    readTier({ userId }).catch((err) => {
      log.warn('tier lookup failed; using the fallback tier', { error: String(err) });
      return { tier: FALLBACK_TIER };
    }),
  ]);
  return { chart: buildChart(loaded.version, loaded.definition), tier: customer.tier };
}
