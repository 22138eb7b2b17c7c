import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { makeComputeRfmTiers, rfmScores, rfmTier, type RfmFacts, type RfmStore, type ScoredUser, type Tier, type TierRecomputeResult } from '../../activities/rfm';

const facts = (recencyDays: number | null, frequency: number, monetary: number): RfmFacts => ({ recencyDays, frequency, monetary });

/** Users of a short-video shop, what they did in the last year, and the tier that should earn them. */
const USERS: Array<{ who: string; facts: RfmFacts; scores: [number, number, number]; tier: Tier }> = [
  { who: 'nothing bought in a year', facts: facts(null, 0, 0), scores: [1, 1, 1], tier: 'standard' },
  { who: 'one small order this week', facts: facts(2, 1, 39), scores: [5, 1, 1], tier: 'standard' },
  { who: 'lapsed repeat buyer (5 orders, 800 元, 4 months ago)', facts: facts(120, 5, 800), scores: [2, 3, 2], tier: 'standard' },
  { who: 'came back this week (3 orders, 369 元)', facts: facts(5, 3, 369), scores: [5, 2, 2], tier: 'silver' },
  { who: 'quarterly buyer (4 orders, 1,000 元, 2 months ago)', facts: facts(60, 4, 1_000), scores: [3, 3, 3], tier: 'silver' },
  { who: 'monthly buyer (12 orders, 1,500 元, 3 weeks ago)', facts: facts(20, 12, 1_500), scores: [4, 4, 3], tier: 'gold' },
  { who: 'one-off big spender this week (12,000 元)', facts: facts(3, 1, 12_000), scores: [5, 1, 5], tier: 'gold' },
  { who: 'lapsed whale (40 orders, 20,000 元, 200 days ago)', facts: facts(200, 40, 20_000), scores: [1, 5, 5], tier: 'gold' },
  { who: 'live-stream regular (30 orders and recharges, 2,400 元, yesterday)', facts: facts(1, 30, 2_400), scores: [5, 5, 3], tier: 'vip' },
  { who: 'top spender (15 orders, 6,000 元, this week)', facts: facts(6, 15, 6_000), scores: [5, 4, 4], tier: 'vip' },
];

describe('RFM tiers', () => {
  it.each(USERS)('$who → $tier', ({ facts: f, scores, tier }) => {
    const s = rfmScores(f);
    expect([s.r, s.f, s.m]).toEqual(scores);
    expect(s.total).toBe(scores[0] + scores[1] + scores[2]);
    expect(rfmTier(f)).toBe(tier);
  });

  it('scores recency by days since the last purchase, inclusive bounds', () => {
    const r = (days: number | null) => rfmScores(facts(days, 1, 0)).r;
    expect([0, 7, 8, 30, 31, 90, 91, 180, 181, 365, null].map(r)).toEqual([5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 1]);
  });

  it('scores frequency by orders and recharges in the year', () => {
    const f = (n: number) => rfmScores(facts(1, n, 0)).f;
    expect([0, 1, 2, 3, 4, 9, 10, 23, 24, 100].map(f)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });

  it('scores monetary value by yuan spent in the year', () => {
    const m = (yuan: number) => rfmScores(facts(1, 1, yuan)).m;
    expect([0, 199.99, 200, 999, 1_000, 2_999, 3_000, 9_999.99, 10_000, 1e6].map(m)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });

  it('gives the tier by the total score: silver from 8, gold from 11, vip from 13', () => {
    const totalAndTier = (f: RfmFacts) => [rfmScores(f).total, rfmTier(f)];
    expect(totalAndTier(facts(1, 1, 199))).toEqual([7, 'standard']);
    expect(totalAndTier(facts(1, 1, 200))).toEqual([8, 'silver']);
    expect(totalAndTier(facts(1, 1, 3_000))).toEqual([10, 'silver']);
    expect(totalAndTier(facts(1, 1, 10_000))).toEqual([11, 'gold']);
    expect(totalAndTier(facts(1, 2, 10_000))).toEqual([12, 'gold']);
    expect(totalAndTier(facts(1, 4, 10_000))).toEqual([13, 'vip']);
    expect(totalAndTier(facts(1, 24, 10_000))).toEqual([15, 'vip']);
  });
});

/** Run the activity in a mocked activity context (heartbeats, heartbeat details of an earlier attempt). */
const runIn = (env: MockActivityEnvironment, store: RfmStore): Promise<TierRecomputeResult> =>
  env.run(makeComputeRfmTiers(store, 2), { asOf: '2026-06-01T19:00:00.000Z' }) as Promise<TierRecomputeResult>;

/** An in-memory platform: users in id order, each with facts; every write is recorded. */
function memoryStore(users: Record<string, RfmFacts>) {
  const tiers = new Map<string, Tier>(Object.keys(users).map((id) => [id, 'standard']));
  const writes: string[][] = [];
  const store: RfmStore = {
    async rfmFactsPage(_asOf, afterId, limit) {
      const ids = Object.keys(users).sort().filter((id) => id > afterId).slice(0, limit);
      return ids.map((userId) => ({ userId, facts: users[userId] }));
    },
    async applyRfmTiers(_asOf, scored: ScoredUser[]) {
      writes.push(scored.map((u) => u.userId));
      const changed = scored.filter((u) => tiers.get(u.userId) !== u.tier).length;
      for (const u of scored) tiers.set(u.userId, u.tier);
      return changed;
    },
    async tierCounts() {
      const counts = { standard: 0, silver: 0, gold: 0, vip: 0 };
      for (const t of tiers.values()) counts[t]++;
      return { users: tiers.size, manual: 0, tiers: counts };
    },
  };
  return { store, writes };
}

describe('the recompute activity', () => {
  const users = { u1: facts(1, 30, 2_400), u2: facts(null, 0, 0), u3: facts(5, 3, 369), u4: facts(3, 1, 12_000), u5: facts(2, 1, 39) };

  it('goes through every user in batches, heartbeating its progress, and reports the tiers', async () => {
    const { store, writes } = memoryStore(users);
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d) => beats.push(d));
    const result = await runIn(env, store);
    expect(writes).toEqual([['u1', 'u2'], ['u3', 'u4'], ['u5']]);
    expect(beats).toEqual([{ afterId: 'u2', changed: 1 }, { afterId: 'u4', changed: 3 }, { afterId: 'u5', changed: 3 }]);
    expect(result).toEqual({ asOf: '2026-06-01T19:00:00.000Z', users: 5, manual: 0, changed: 3, tiers: { standard: 2, silver: 1, gold: 1, vip: 1 } });
    // Run again: the same tiers, nothing changed.
    expect(await runIn(new MockActivityEnvironment(), store)).toMatchObject({ changed: 0, tiers: result.tiers });
  });

  it('resumes a retried attempt after the last batch its heartbeat reported', async () => {
    const { store, writes } = memoryStore(users);
    const env = new MockActivityEnvironment({ heartbeatDetails: { afterId: 'u2', changed: 1 } });
    const result = await runIn(env, store);
    expect(writes).toEqual([['u3', 'u4'], ['u5']]);
    expect(result.changed).toBe(3);
  });
});
