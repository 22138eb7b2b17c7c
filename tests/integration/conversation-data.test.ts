import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CsChartVersion, CsUserTier } from '../../common/search-attributes';
import { COMMITTED_CHART } from '../../db/chart-registry';
import { viewQuery } from '../../workflows/conversation';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('conversation_data');
});
afterAll(async () => stack?.teardown());

const admin = (method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown) => stack.admin(method, path, body);

const committed = () => JSON.parse(readFileSync(COMMITTED_CHART, 'utf8'));

describe('chart versions', () => {
  it('starts new conversations on the latest published chart and keeps running ones on theirs', async () => {
    const before = await stack.post('app', { userId: 'pinned-early', text: '账号有问题' });
    const v1 = (await stack.get(`/api/conversations/${before.body.conversationId}`)).body.chartVersion;
    expect(v1).toBeGreaterThan(0);
    expect(before.body.state).toBe('clarifying'); // a 0.2 margin asks

    // A designer publishes a version that answers on a smaller lead and hands over after one rejection.
    const eager = committed();
    eager.params.confidentMargin = 0.01;
    eager.params.confidentScore = 0.3;
    eager.params.maxRejections = 1;
    const published = await admin('POST', '/charts', { chart: eager, author: 'designer-1', note: 'answer more, escalate sooner' });
    expect(published.status).toBe(201);
    const v2 = published.body.version;
    expect(v2).toBeGreaterThan(v1);

    const after = await stack.post('app', { userId: 'pinned-late', text: '账号有问题' });
    expect(after.body.state).toBe('answering.awaitingFeedback');
    const late = await stack.get(`/api/conversations/${after.body.conversationId}`);
    expect(late.body.chartVersion).toBe(v2);

    // The earlier conversation still runs on v1: one rejection does not hand it over.
    await stack.post('app', { userId: 'pinned-early', text: '1' });
    const rejected = await stack.post('app', { userId: 'pinned-early', text: '没用' });
    expect(rejected.body.state).toBe('offeringAlternative.awaitingFeedback');
    const handle = stack.client.workflow.getHandle(`conv-${before.body.conversationId}`);
    expect((await handle.query(viewQuery)).chartVersion).toBe(v1);
    expect((await handle.describe()).typedSearchAttributes.get(CsChartVersion)).toBe(v1);

    // …while the later one, on v2, hands over at the first rejection.
    const lateRejected = await stack.post('app', { userId: 'pinned-late', text: '没用' });
    expect(lateRejected.body.state).toBe('handoff.queued');

    // Restore the committed chart for the rest of the file.
    expect((await admin('POST', '/charts', { chart: committed(), author: 'test' })).body).toEqual({ version: v1, published: true });
    const versions = (await admin('GET', '/charts')).body.versions;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([v2, v1]);
    expect(versions[0]).toMatchObject({ author: 'designer-1', note: 'answer more, escalate sooner' });
  });

  it('refuses an invalid chart with every problem named, and stores nothing', async () => {
    const broken = committed();
    broken.states.routing.always[0].guard = 'isFullMoon';
    broken.states.idle.on = { 'user.message': { target: 'nowhere' } };
    const res = await admin('POST', '/charts', { chart: broken, author: 'designer-2' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_chart');
    expect(res.body.error.message).toContain('isFullMoon');
    expect(res.body.error.message).toContain('nowhere');
    const bad = await admin('POST', '/charts', { chart: committed(), author: '', extra: 1 });
    expect(bad.status).toBe(400);
    expect((await admin('GET', '/charts/999')).status).toBe(404);
    expect((await admin('GET', '/charts')).body.versions).toHaveLength(2);
  });
});

describe('no chart published', () => {
  it('keeps the message and answers 503 until a chart is published, then answers the retry on it', async () => {
    const published = await stack.ds.query(`SELECT version, published_at FROM chart_versions WHERE published_at IS NOT NULL`);
    await stack.ds.query(`UPDATE chart_versions SET published_at = NULL`);
    try {
      const refused = await stack.post('app', { userId: 'too-early', text: '你好', messageId: 'early-1' });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('chart_unavailable');
    } finally {
      for (const p of published) await stack.ds.query(`UPDATE chart_versions SET published_at = $2 WHERE version = $1`, [p.version, p.published_at]);
    }
    const retried = await stack.post('app', { userId: 'too-early', text: '你好', messageId: 'early-1' });
    expect(retried.status).toBe(200);
    expect((await stack.get(`/api/conversations/${retried.body.conversationId}`)).body.chartVersion).toBeGreaterThan(0);
  });
});

describe('the user behind the conversation', () => {
  it("reads the user's tier from the platform when the conversation starts", async () => {
    expect((await admin('PUT', '/users/gold-member', { nickname: '金卡会员', tier: 'vip' })).status).toBe(200);
    const res = await stack.post('app', { userId: 'gold-member', text: '你好' });
    const id = res.body.conversationId;
    const handle = stack.client.workflow.getHandle(`conv-${id}`);
    expect((await handle.query(viewQuery)).tier).toBe('vip');
    expect((await handle.describe()).typedSearchAttributes.get(CsUserTier)).toBe('vip');
    expect((await stack.get(`/api/conversations/${id}`)).body.tier).toBe('vip');

    const guest = await stack.post('app', { userId: 'walk-in-guest', text: '你好' });
    expect((await stack.get(`/api/conversations/${guest.body.conversationId}`)).body.tier).toBe('standard');
  });
});

describe('one owner for conversation data', () => {
  it('answers the channel with exactly the stored rows, in the order the workflow numbered them', async () => {
    const res = await stack.post('web', { userId: 'row-reader', text: '怎么开通直播', messageId: 'rr-1' });
    const stored = (await stack.get(`/api/conversations/${res.body.conversationId}`)).body.messages;
    const bot = stored.filter((m: { from: string }) => m.from === 'bot');
    expect(res.body.replies.map((r: { id: string }) => r.id)).toEqual(bot.map((m: { id: string }) => m.id));
    expect(res.body.replies.map((r: { text: string }) => r.text)).toEqual(bot.map((m: { text: string }) => m.text));
    expect(res.body.actions).toEqual([]);
    const rows = await stack.ds.query(
      `SELECT seq, turn, reply_to::text FROM messages WHERE conversation_id = $1 AND sender = 'bot' ORDER BY seq`,
      [res.body.conversationId],
    );
    const [userMessage] = await stack.ds.query(`SELECT id::text, turn FROM messages WHERE client_message_id = 'rr-1'`);
    expect(rows.map((r: { seq: number }) => r.seq)).toEqual(rows.map((_: unknown, i: number) => i + 1));
    expect(rows.every((r: { turn: number; reply_to: string }) => r.turn === 1 && r.reply_to === userMessage.id)).toBe(true);
    expect(userMessage.turn).toBe(1);

    // Every turn is one row of the event log, with the chart version it ran on.
    const events = await stack.ds.query(`SELECT type, intent, emotion, chart_version, payload FROM events WHERE conversation_id = $1 AND type = 'turn'`, [
      res.body.conversationId,
    ]);
    expect(events).toEqual([
      expect.objectContaining({ type: 'turn', intent: 'live.permission', chart_version: expect.any(Number), payload: expect.objectContaining({ messageId: userMessage.id }) }),
    ]);

    // The retry is answered from the stored response, byte for byte.
    const retry = await stack.post('web', { userId: 'row-reader', text: '怎么开通直播', messageId: 'rr-1' });
    expect(retry.body).toEqual(res.body);
  });

  it('moves a message that reached a conversation which ended meanwhile into a new one, losing nothing', async () => {
    const hello = await stack.post('app', { userId: 'late-sender', text: '你好' });
    const ended = hello.body.conversationId;
    const bye = await stack.post('app', { userId: 'late-sender', text: '再见' });
    expect(bye.body.state).toBe('closed');
    await stack.client.workflow.getHandle(`conv-${ended}`).result();
    // The race: the API still sees the conversation open when the next message arrives.
    await stack.ds.query(`UPDATE conversations SET status = 'open', closed_at = NULL WHERE id = $1`, [ended]);
    const late = await stack.post('app', { userId: 'late-sender', text: '在吗 我还有个问题', messageId: 'late-1' });
    expect(late.status).toBe(200);
    expect(late.body.conversationId).not.toBe(ended);
    const [moved] = await stack.ds.query(`SELECT conversation_id::text AS conv, response IS NOT NULL AS answered FROM messages WHERE client_message_id = 'late-1'`);
    expect(moved).toEqual({ conv: late.body.conversationId, answered: true });
    expect((await stack.get(`/api/conversations/${ended}`)).body.status).toBe('closed');
  });

  it('pushes messages written later to an open event stream without polling', async () => {
    const res = await stack.post('app', { userId: 'stream-reader', text: '你好' });
    const id = res.body.conversationId;
    const stream = await fetch(`${stack.baseUrl}/api/conversations/${id}/events?after=${res.body.replies.at(-1).id}`, {
      headers: { Authorization: `Bearer test-token` },
    });
    const reader = stream.body!.getReader();
    const next = stack.post('app', { userId: 'stream-reader', text: '实名认证怎么弄' });
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes('实名') && Date.now() < deadline) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    await next;
    expect(text).toContain('event: message');
    expect(text).toContain('实名认证怎么弄'); // the user's message, then the replies
  });
});

describe('tracked offers, handoff actions and the event log', () => {
  it('shows the offer once the problem is solved, and counts an acceptance or an order of the product as a conversion', async () => {
    await stack.post('app', { userId: 'creator-a', text: '我的视频播放量一直只有几十，是不是被限流了' });
    const solved = await stack.post('app', { userId: 'creator-a', text: '解决了 谢谢' });
    const offer = solved.body.replies.find((r: { kind: string }) => r.kind === 'offer');
    expect(offer.offer).toMatchObject({ id: expect.stringMatching(/^offer-\d+-\d+$/), product: expect.any(String), link: expect.any(String) });

    const accept = () =>
      fetch(`${stack.baseUrl}/api/offers/${offer.offer.id}/accept`, { method: 'POST', headers: { Authorization: 'Bearer test-token' } });
    const first = await accept();
    expect(first.status).toBe(200);
    const accepted = await first.json();
    expect(accepted).toMatchObject({ offerId: offer.offer.id, conversationId: solved.body.conversationId, intent: 'creator.low_traffic', channel: 'app', by: 'accepted' });
    expect(await (await accept()).json()).toEqual(accepted); // once
    expect((await fetch(`${stack.baseUrl}/api/offers/offer-1-1/accept`, { method: 'POST', headers: { Authorization: 'Bearer test-token' } })).status).toBe(404);

    // Another user buys the offered product within 7 days instead of tapping the offer.
    await stack.post('app', { userId: 'creator-b', text: '视频没流量 是不是被限流了' });
    const solvedB = await stack.post('app', { userId: 'creator-b', text: '有用 解决了' });
    const offerB = solvedB.body.replies.find((r: { kind: string }) => r.kind === 'offer');
    await stack.admin('PUT', '/users/creator-b', { nickname: '创作者B' });
    await stack.admin('PUT', '/orders/7300000000000001', { userId: 'creator-b', product: offerB.offer.product, amount: 30 });
    const conversions = (await stack.admin('GET', '/users/creator-b/conversions')).body.conversions;
    expect(conversions).toEqual([expect.objectContaining({ offerId: offerB.offer.id, by: 'order', product: offerB.offer.product })]);
    const [{ n }] = await stack.ds.query(`SELECT count(*)::int AS n FROM events WHERE type = 'conversion'`);
    expect(n).toBe(2);
  });

  it('lists a handoff among the turn\'s actions with its queue, and logs what each turn did', async () => {
    await stack.post('web', { userId: 'wants-person', text: '提现一直没到账' });
    const human = await stack.post('web', { userId: 'wants-person', text: '转人工' });
    expect(human.body.handoff).toEqual({ status: 'queued', queue: 'pay' });
    expect(human.body.actions).toEqual([{ type: 'handoff', id: expect.any(String), status: 'queued', queue: 'pay' }]);
    const types = await stack.ds.query(`SELECT type FROM events WHERE conversation_id = $1 ORDER BY id`, [human.body.conversationId]);
    expect(types.map((t: { type: string }) => t.type)).toEqual(
      expect.arrayContaining(['turn', 'message_received', 'understood', 'answered', 'handoff_requested']),
    );
  });
});
