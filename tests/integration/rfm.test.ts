import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { CsUserTier } from '../../common/search-attributes';
import { ensureRfmSchedule, RFM_SCHEDULE_ID } from '../../server/tier-recompute';
import { viewQuery } from '../../workflows/conversation';
import { startStack, type Stack } from '../support/stack';

// RFM tiers from the platform's orders and recharges, recomputed by a workflow (on demand through the admin API, daily
// by a Temporal Schedule). Fixtures are made through the admin API; each user's expected tier is noted beside it.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('rfm');
});
afterAll(async () => stack?.teardown());

const put = (path: string, body: unknown) => stack.admin('PUT', path, body);
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
const recompute = () => stack.admin('POST', '/tiers/recompute');
const userOf = async (id: string) => (await stack.admin('GET', `/users/${id}`)).body;

let orderNo = 7_300_000_000_000_000;
async function order(userId: string, amount: number, ageDays: number, status = 'delivered') {
  const res = await put(`/orders/${++orderNo}`, { userId, product: '测试商品', amount, status, createdAt: daysAgo(ageDays) });
  expect(res.status).toBe(200);
}
let rechargeNo = 0;
async function recharge(userId: string, amount: number, ageDays: number, status = 'credited') {
  const at = daysAgo(ageDays);
  const res = await put(`/recharges/RFM-${++rechargeNo}`, {
    userId, amount, coins: amount * 10, status, createdAt: at, ...(status === 'credited' ? { creditedAt: at } : {}),
  });
  expect(res.status).toBe(200);
}

/** The fixture community; every user is rfm-managed except the signed creator. */
async function createFixture() {
  for (const [id, nickname] of [
    ['rfm-newcomer', '新用户'], ['rfm-one-order', '尝鲜'], ['rfm-excluded', '退单多'], ['rfm-silver', '回头客'],
    ['rfm-gold', '月月买'], ['rfm-vip', '大买家'], ['rfm-tipper', '打赏达人'],
  ]) {
    expect((await put(`/users/${id}`, { nickname })).body).toMatchObject({ tier: 'standard', tierSource: 'rfm', rfm: null });
  }
  // A signed creator: VIP by contract, whatever they buy.
  expect((await put('/users/rfm-signed-creator', { nickname: '签约达人', tier: 'vip' })).body).toMatchObject({ tier: 'vip', tierSource: 'manual' });

  await order('rfm-one-order', 39, 2); // 5 + 1 + 1 = 7: standard
  // Nothing here counts but the 30 元 order 100 days ago: 2 + 1 + 1 = 4, standard.
  await order('rfm-excluded', 5_000, 1, 'cancelled');
  await order('rfm-excluded', 3_000, 1, 'refunded');
  await order('rfm-excluded', 8_000, 400);
  await order('rfm-excluded', 30, 100);
  await recharge('rfm-excluded', 1_000, 1, 'pending');
  await recharge('rfm-excluded', 500, 1, 'failed');
  // 3 orders, 369 元, last 5 days ago: 5 + 2 + 2 = 9, silver.
  for (const [amount, age] of [[120, 15], [150, 10], [99, 5]]) await order('rfm-silver', amount, age);
  // 6 orders (1,500 元) and a credited 648 元 recharge, last 3 days ago: 5 + 3 + 3 = 11, gold.
  for (const age of [3, 12, 20, 30, 45, 60]) await order('rfm-gold', 250, age);
  await recharge('rfm-gold', 648, 10);
  // 12 orders, 4,200 元, last yesterday: 5 + 4 + 4 = 13, vip.
  for (let i = 0; i < 12; i++) await order('rfm-vip', 350, 1 + i * 10);
  // Recharges only (tips in live streams): 25 × 100 元, last 2 days ago: 5 + 5 + 3 = 13, vip.
  for (let i = 0; i < 25; i++) await recharge('rfm-tipper', 100, 2 + i * 7);
}

const EXPECTED_TIERS = {
  'rfm-newcomer': 'standard',
  'rfm-one-order': 'standard',
  'rfm-excluded': 'standard',
  'rfm-silver': 'silver',
  'rfm-gold': 'gold',
  'rfm-vip': 'vip',
  'rfm-tipper': 'vip',
  'rfm-signed-creator': 'vip',
};

describe('RFM tiers', () => {
  let conversationBefore: string;

  it('refuses a recompute without the admin token or with options it does not know', async () => {
    const anon = await fetch(`${stack.baseUrl}/api/admin/tiers/recompute`, { method: 'POST' });
    expect(anon.status).toBe(401);
    const bad = await stack.admin('POST', '/tiers/recompute', { asOf: '2020-01-01T00:00:00Z' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    expect((await stack.admin('GET', '/users/nobody-at-all')).status).toBe(404);
    expect((await put('/users/rfm-diamond', { nickname: '钻石', tier: 'diamond' })).status).toBe(400);
  });

  it('computes each user’s tier from their orders and recharges; a manual VIP stays VIP', async () => {
    await createFixture();
    // A conversation that starts now keeps the tier it started with.
    conversationBefore = (await stack.post('app', { userId: 'rfm-gold', text: '你好' })).body.conversationId;

    const res = await recompute();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      workflowId: expect.stringMatching(/^rfm-/),
      users: 8,
      manual: 1,
      changed: 4,
      tiers: { standard: 3, silver: 1, gold: 1, vip: 3 },
    });
    for (const [id, tier] of Object.entries(EXPECTED_TIERS)) expect([id, (await userOf(id)).tier]).toEqual([id, tier]);

    const excluded = await userOf('rfm-excluded');
    expect(excluded).toMatchObject({ tierSource: 'rfm', rfm: { recencyDays: 100, frequency: 1, monetary: 30, scores: { r: 2, f: 1, m: 1, total: 4 } } });
    expect(Date.parse(excluded.tierComputedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect((await userOf('rfm-gold')).rfm).toMatchObject({ recencyDays: 3, frequency: 7, monetary: 2148, tier: 'gold' });
    expect((await userOf('rfm-newcomer')).rfm).toMatchObject({ recencyDays: null, frequency: 0, monetary: 0, tier: 'standard' });
    // The creator's own purchases would make them standard; the manual tier wins.
    expect(await userOf('rfm-signed-creator')).toMatchObject({ tier: 'vip', tierSource: 'manual', rfm: { frequency: 0, tier: 'standard' } });
  });

  it('gives the same result when run again, changing nothing', async () => {
    const before = await Promise.all(Object.keys(EXPECTED_TIERS).map(userOf));
    const again = await recompute();
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ users: 8, manual: 1, changed: 0, tiers: { standard: 3, silver: 1, gold: 1, vip: 3 } });
    const after = await Promise.all(Object.keys(EXPECTED_TIERS).map(userOf));
    const withoutTime = (u: Record<string, unknown>) => ({ ...u, tierComputedAt: undefined });
    expect(after.map(withoutTime)).toEqual(before.map(withoutTime));
  });

  it('starts new conversations with the new tier; a running one keeps the tier it started with', async () => {
    const res = await stack.post('app', { userId: 'rfm-vip', text: '你好' });
    const id = res.body.conversationId;
    expect((await stack.get(`/api/conversations/${id}`)).body.tier).toBe('vip');
    const handle = stack.client.workflow.getHandle(`conv-${id}`);
    expect((await handle.query(viewQuery)).tier).toBe('vip');
    expect((await handle.describe()).typedSearchAttributes.get(CsUserTier)).toBe('vip');

    await stack.post('app', { userId: 'rfm-gold', text: '谢谢' });
    expect((await stack.get(`/api/conversations/${conversationBefore}`)).body.tier).toBe('standard');
  });

  it('keeps a computed tier when an admin edits the user without a tier, and hands a manual user back to RFM', async () => {
    expect((await put('/users/rfm-gold', { nickname: '月月买（改名）' })).body).toMatchObject({ tier: 'gold', tierSource: 'rfm' });
    // Without a tier the creator is rfm-managed again, with the tier the last recompute computed for them.
    expect((await put('/users/rfm-signed-creator', { nickname: '签约到期' })).body).toMatchObject({ tier: 'standard', tierSource: 'rfm' });
    expect((await put('/users/rfm-silver', { nickname: '回头客', tier: 'gold' })).body).toMatchObject({ tier: 'gold', tierSource: 'manual' });
    expect((await recompute()).body).toMatchObject({ manual: 1, changed: 0, tiers: { standard: 4, silver: 0, gold: 2, vip: 2 } });
    expect(await userOf('rfm-silver')).toMatchObject({ tier: 'gold', tierSource: 'manual', rfm: { tier: 'silver' } });
  });
});

describe('the daily schedule', () => {
  it('is created once (every 24 h at 03:00 Beijing time, overlapping runs skipped) and its runs recompute the tiers', async () => {
    expect(await ensureRfmSchedule(stack.client, stack.taskQueue)).toBe(true);
    expect(await ensureRfmSchedule(stack.client, stack.taskQueue)).toBe(false);
    const schedule = stack.client.schedule.getHandle(RFM_SCHEDULE_ID);
    const described = await schedule.describe();
    expect(described.spec.intervals).toEqual([{ every: 24 * 3_600_000, offset: 19 * 3_600_000 }]);
    expect(described.info.nextActionTimes[0].getUTCHours()).toBe(19);
    expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'recomputeTiers', taskQueue: stack.taskQueue });

    await schedule.trigger();
    let workflowId: string | undefined;
    for (let i = 0; i < 100 && !workflowId; i++) {
      const action = (await schedule.describe()).info.recentActions[0]?.action;
      workflowId = action?.workflow.workflowId;
      if (!workflowId) await new Promise((r) => setTimeout(r, 100));
    }
    expect(workflowId).toMatch(new RegExp(`^${RFM_SCHEDULE_ID}-`));
    const result = await stack.client.workflow.getHandle(workflowId!).result();
    expect(result).toMatchObject({ users: 8, changed: 0, tiers: { standard: 4, silver: 0, gold: 2, vip: 2 } });
    await schedule.delete();
  });
});
