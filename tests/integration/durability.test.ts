import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Snowflake } from '../../common/snowflake';
import { createApp } from '../../server/app';
import { ConversationGateway } from '../../server/conversation-gateway';
import { ConversationStore } from '../../db/conversation-store';
import { IdentityStore } from '../../db/identity-store';
import { PlatformStore } from '../../platform/store';
import { ConversationService } from '../../server/conversation-service';
import { RateLimiter } from '../../server/rate-limit';
import { workflowBundle } from '../../worker/create';
import { startStack, TOKEN, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('durability');
});
afterAll(async () => stack?.teardown());

describe('durability', () => {
  it('acts once when the worker stops while the confirmed action is running, and the retry gets the same answer', async () => {
    await stack.admin('PUT', '/users/crash-buyer', { nickname: '崩溃测试' });
    await stack.admin('PUT', '/orders/7600000000000001', { userId: 'crash-buyer', product: '吸尘器', amount: 599, status: 'paid' });
    const asked = await stack.post('app', { userId: 'crash-buyer', text: '帮我取消这个订单' });
    expect(asked.body.state).toBe('answering.confirmingAction');
    // Hold the platform's lock for this action, so the activity is in flight when the worker goes away.
    const key = `conv-${asked.body.conversationId}:turn-2:order_cancelled`;
    const { Client: PgClient } = await import('pg');
    const holder = new PgClient({ connectionString: (stack.ds.options as { url: string }).url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
    const confirming = stack.post('app', { userId: 'crash-buyer', text: '确认', messageId: 'crash-yes' });
    await new Promise((r) => setTimeout(r, 1500));
    const stopping = stack.stopWorker();
    await new Promise((r) => setTimeout(r, 300));
    await holder.query('COMMIT'); // the action goes through while the worker shuts down
    await holder.end();
    await stopping;
    await stack.startWorker();
    const answered = await confirming;
    const retried = await stack.post('app', { userId: 'crash-buyer', text: '确认', messageId: 'crash-yes' });
    for (const res of [answered, retried]) {
      expect(res.status).toBe(200);
      expect(res.body.actions).toEqual([expect.objectContaining({ type: 'order_cancelled', status: 'done' })]);
    }
    expect(retried.body).toEqual(answered.body);
    expect((await stack.admin('GET', '/users/crash-buyer/actions')).body.actions).toHaveLength(1);
  });

  it('keeps a conversation going across a worker stop and restart, losing no message', async () => {
    const first = await stack.post('app', { userId: 'restart-user', text: '我想注销账号怎么操作', messageId: 'r-1' });
    expect(first.body.state).toBe('answering.awaitingFeedback');

    await stack.stopWorker();
    // Sent while no worker runs: the API holds the request until a worker picks the turn up.
    const pending = stack.post('app', { userId: 'restart-user', text: '没用', messageId: 'r-2' });
    await new Promise((r) => setTimeout(r, 1500));
    await stack.startWorker();
    const second = await pending;

    expect(second.status).toBe(200);
    expect(second.body.conversationId).toBe(first.body.conversationId);
    expect(second.body.state).toBe('offeringAlternative.awaitingFeedback');
    const third = await stack.post('app', { userId: 'restart-user', text: '解决了', messageId: 'r-3' });
    expect(third.body.state).toBe('resolved');

    const conv = await stack.get(`/api/conversations/${first.body.conversationId}`);
    const userTexts = conv.body.messages.filter((m: { from: string }) => m.from === 'user').map((m: { text: string }) => m.text);
    expect(userTexts).toEqual(['我想注销账号怎么操作', '没用', '解决了']);
  });

  it('apologises and offers the numbered topic menu when knowledge is unavailable, then recovers', async () => {
    await stack.stopWorker();
    await stack.ds.query('ALTER TABLE knowledge_entries RENAME TO knowledge_entries_offline');
    try {
      await stack.startWorker(); // starts without knowledge: understanding fails on every turn
      const res = await stack.post('app', { userId: 'degraded-user', text: '我的订单什么时候发货' });
      expect(res.status).toBe(200);
      expect(res.body.state).toBe('menu');
      const kinds = res.body.replies.map((r: { kind: string }) => r.kind);
      expect(kinds).toEqual(['system', 'apology', 'menu']);
      const menu = res.body.replies[2];
      expect(menu.text).toMatch(/1\. 订单/);
      expect(menu.options.map((o: { key: string }) => o.key)).toEqual(['1', '2', '3', '4', '5', '6', '7', '0']);
      // On the phone the user presses 0 for a human.
      const human = await stack.post('phone', { userId: 'degraded-user', dtmf: '0' });
      expect(human.body.state).toBe('handoff.queued');
    } finally {
      await stack.stopWorker();
      await stack.ds.query('ALTER TABLE knowledge_entries_offline RENAME TO knowledge_entries');
      await stack.startWorker();
    }
    const ok = await stack.post('app', { userId: 'after-recovery', text: '实名认证怎么弄' });
    expect(ok.body.state).toBe('answering.awaitingFeedback');
  });

  it('answers 503 with Retry-After while Temporal is unreachable, keeps the message, and answers the retry once', async () => {
    const deadClient = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s' }) });
    const settings = { inactivityMs: 600_000, turnsPerRun: 40 };
    const downApp = createApp({
      ds: stack.ds,
      conversations: new ConversationService(
        new ConversationStore(stack.ds, new Snowflake(9)),
        new ConversationGateway(deadClient, stack.taskQueue, settings, 2_000),
        new IdentityStore(stack.ds),
        new PlatformStore(stack.ds),
      ),
      channelToken: TOKEN,
      rateLimiter: new RateLimiter(100, 1000),
      feed: stack.feed,
      store: new ConversationStore(stack.ds, new Snowflake(9)),
    });
    const server = await new Promise<import('node:http').Server>((resolve) => {
      const s = downApp.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const port = (server.address() as import('node:net').AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/api/channels/app/messages`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ userId: 'outage-user', text: '充值的星币没到账', messageId: 'outage-1' }),
      });
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/unavailable|timeout/);
    } finally {
      await new Promise((r) => server.close(r));
    }
    const [kept] = await stack.ds.query(`SELECT text, response FROM messages WHERE client_message_id = 'outage-1'`);
    expect(kept).toEqual({ text: '充值的星币没到账', response: null });

    const retried = await stack.post('app', { userId: 'outage-user', text: '充值的星币没到账', messageId: 'outage-1' });
    expect(retried.status).toBe(200);
    expect(retried.body.intent.name).toBe('pay.recharge');
    const [{ n }] = await stack.ds.query(`SELECT count(*)::int AS n FROM messages WHERE user_id = 'outage-user' AND sender = 'user'`);
    expect(n).toBe(1);
  });

  it('replays every recorded conversation history deterministically', async () => {
    const conversations: Array<{ id: string }> = await stack.ds.query('SELECT id::text FROM conversations');
    expect(conversations.length).toBeGreaterThanOrEqual(4);
    const histories = await Promise.all(
      conversations.map(async ({ id }) => ({
        workflowId: `conv-${id}`,
        history: await stack.client.workflow.getHandle(`conv-${id}`).fetchHistory(),
      })),
    );
    const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
    for await (const r of results) expect(r.error, `${r.workflowId}: ${r.error}`).toBeUndefined();
  });
});
