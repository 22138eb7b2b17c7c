import { activityInfo, heartbeat } from '@temporalio/activity';

// RFM tiers: how recently, how often and how much a user bought (shop orders) or paid in (credited recharges) over
// the last year. Recency, frequency and monetary value are each scored 1–5 by fixed thresholds and the tier follows
// from the sum (3–15). Fixed thresholds rather than quantiles: a user's tier is explainable from their own numbers
// ("最近 7 天内消费、一年 10 单以上、累计 3000 元以上") and does not move because other users bought more, and each
// user is scored on their own, so the recompute works in independent batches.

export const TIERS = ['standard', 'silver', 'gold', 'vip'] as const;
export type Tier = (typeof TIERS)[number];
/** `manual`: set by an admin (e.g. a signed creator), never changed by the recompute. `rfm`: the recompute's. */
export const TIER_SOURCES = ['manual', 'rfm'] as const;
export type TierSource = (typeof TIER_SOURCES)[number];

/** Orders and recharges older than this do not count. */
export const RFM_WINDOW_DAYS = 365;

/** One user's purchases in the window: non-cancelled, non-refunded orders plus credited recharges. */
export interface RfmFacts {
  /** Whole days since the latest counted order or recharge; null when there is none in the window. */
  recencyDays: number | null;
  /** How many orders and recharges count. */
  frequency: number;
  /** What they add up to, in yuan. */
  monetary: number;
}

export interface RfmScores {
  r: number;
  f: number;
  m: number;
  total: number;
}

/**
 * Each list holds the bounds for scores 5, 4, 3, 2 (anything else scores 1), chosen for a short-video shop where a
 * typical order is 50–150 元 (impulse buys in live streams; the stand-in's shops ship free from 59 or 99 元):
 * - recency, days at most: 7 (bought this week — live-commerce shoppers come back weekly), 30, 90, 180 (else up to a year);
 * - frequency, at least: 24 (twice a month), 10 (about monthly), 4 (quarterly), 2 (came back once); a one-off scores 1;
 * - monetary, yuan at least: 10,000, 3,000 (about 250 元 a month), 1,000 (about 100 元 a month), 200 (a few orders).
 */
export const RFM_THRESHOLDS = {
  recencyDays: [7, 30, 90, 180],
  frequency: [24, 10, 4, 2],
  monetary: [10_000, 3_000, 1_000, 200],
} as const;

/**
 * The lowest total score of each tier above standard. VIP (≥ 13) leaves no score below 3, e.g. bought this week, 10+
 * orders and 3,000 元+ in the year (5 + 4 + 4); gold (≥ 11) is a regular buyer (4 + 3 + 4) or a recent one-off big
 * spender (5 + 1 + 5); silver (≥ 8) a repeat buyer (5 + 2 + 1), but not a single small recent order (5 + 1 + 1 = 7).
 */
export const TIER_MIN_SCORE = { vip: 13, gold: 11, silver: 8 } as const;

/** Score 5 for the first bound the value meets, down to 1 when it meets none. */
function score(meets: (bound: number) => boolean, bounds: readonly number[]): number {
  const i = bounds.findIndex(meets);
  return i === -1 ? 1 : 5 - i;
}

export function rfmScores(facts: RfmFacts): RfmScores {
  const r = facts.recencyDays === null ? 1 : score((days) => facts.recencyDays! <= days, RFM_THRESHOLDS.recencyDays);
  const f = score((n) => facts.frequency >= n, RFM_THRESHOLDS.frequency);
  const m = score((yuan) => facts.monetary >= yuan, RFM_THRESHOLDS.monetary);
  return { r, f, m, total: r + f + m };
}

/** The tier a user's purchases earn. Pure: the same facts always give the same tier. */
export function rfmTier(facts: RfmFacts): Tier {
  const { total } = rfmScores(facts);
  if (total >= TIER_MIN_SCORE.vip) return 'vip';
  if (total >= TIER_MIN_SCORE.gold) return 'gold';
  if (total >= TIER_MIN_SCORE.silver) return 'silver';
  return 'standard';
}

// The recompute: read facts in batches, score, write. The platform store does the SQL (platform/store.ts).

export interface UserRfm {
  userId: string;
  facts: RfmFacts;
}

export interface ScoredUser extends UserRfm {
  tier: Tier;
}

/** What the recompute needs from the platform; PlatformStore implements it. */
export interface RfmStore {
  /** Users with ids after `afterId` (in id order, at most `limit`), with their facts as of `asOf`. */
  rfmFactsPage(asOf: Date, afterId: string, limit: number): Promise<UserRfm[]>;
  /**
   * Store the facts and RFM tier of each user; the tier becomes the user's own only when it is rfm-managed. Values
   * of a run older than the stored ones are not written. Returns how many users' tiers changed.
   */
  applyRfmTiers(asOf: Date, users: ScoredUser[]): Promise<number>;
  tierCounts(): Promise<{ users: number; manual: number; tiers: Record<Tier, number> }>;
}

export interface TierRecomputeInput {
  /** The instant the facts are computed at (ISO); fixed by the workflow, so a retried activity writes the same values. */
  asOf: string;
}

export interface TierRecomputeResult {
  asOf: string;
  /** Platform users after the run, and how many of them have a manual tier. */
  users: number;
  manual: number;
  /** Users whose tier this run changed (0 when it runs again on the same data). */
  changed: number;
  /** Users per tier after the run, manual ones included. */
  tiers: Record<Tier, number>;
}

/** Progress of one run, kept in the activity's heartbeat so a retry resumes after the last finished batch. */
interface Progress {
  afterId: string;
  changed: number;
}

const BATCH_SIZE = 500;

/** The activity: recompute every user's RFM facts and tier as of `asOf`, batch by batch. Idempotent. */
export function makeComputeRfmTiers(store: RfmStore, batchSize = BATCH_SIZE) {
  return async function computeRfmTiers(input: TierRecomputeInput): Promise<TierRecomputeResult> {
    const asOf = new Date(input.asOf);
    if (Number.isNaN(asOf.getTime())) throw new Error(`asOf is not a time: ${input.asOf}`);
    const resumed = activityInfo().heartbeatDetails as Progress | undefined;
    let { afterId, changed } = resumed ?? { afterId: '', changed: 0 };
    for (;;) {
      const page = await store.rfmFactsPage(asOf, afterId, batchSize);
      if (page.length === 0) break;
      changed += await store.applyRfmTiers(asOf, page.map((u) => ({ ...u, tier: rfmTier(u.facts) })));
      afterId = page[page.length - 1].userId;
      heartbeat({ afterId, changed } satisfies Progress);
    }
    return { asOf: asOf.toISOString(), changed, ...(await store.tierCounts()) };
  };
}
