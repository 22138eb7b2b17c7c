import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { viewQuery } from '../../workflows/conversation';
import { workflowBundle } from '../../worker/create';
import { loadFixtures, saveFixture } from '../support/fixtures';
import { startStack, TOKEN, type Stack } from '../support/stack';

const INACTIVITY_MS = 2500;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('lifecycle', { settings: { inactivityMs: INACTIVITY_MS, turnsPerRun: 3 } });
});
afterAll(async () => stack?.teardown());

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('conversation lifecycle', () => {
  it('continues as new before history grows, carrying the chart state, and keeps talking', async () => {
    const texts = ['你好', '怎么换绑手机号', '没用', '还是没用', '在吗'];
    const replies = [];
    for (const [i, text] of texts.entries()) {
      replies.push((await stack.post('app', { userId: 'long-talker', text, messageId: `lt-${i}` })).body);
    }
    const id = replies[0].conversationId;
    expect(replies.every((r) => r.conversationId === id)).toBe(true);
    // The third turn ended the first run; the rejections counted before it still led to the handoff after it.
    expect(replies[3].state).toBe('handoff.queued');
    expect(replies[4].state).toBe('handoff.queued');

    const handle = stack.client.workflow.getHandle(`conv-${id}`);
    const view = await handle.query(viewQuery);
    expect(view.turns).toBe(5);
    // Every turn of both runs is stored once, replies in the order the workflow numbered them.
    const stored = (await stack.get(`/api/conversations/${id}`)).body.messages as Array<{ from: string; text: string }>;
    expect(stored.filter((m) => m.from === 'user').map((m) => m.text)).toEqual(texts);
    const botTexts = stored.filter((m) => m.from === 'bot').map((m) => m.text);
    expect(botTexts).toEqual(replies.flatMap((r) => r.replies.map((x: { text: string }) => x.text)));
    const firstRun = await firstRunId(id);
    expect((await handle.describe()).runId).not.toBe(firstRun);
    const firstHistory = await stack.client.workflow.getHandle(`conv-${id}`, firstRun).fetchHistory();
    expect(firstHistory.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    saveFixture('registry-continued-as-new', firstHistory);
  });

  it('closes an idle conversation with a note to the user, and the next message opens a new one', async () => {
    const first = await stack.post('web', { userId: 'idle-user', text: '直播间突然被封了怎么办' });
    expect(first.body.intent.name).toBe('live.interrupted');
    const id = first.body.conversationId;
    const sofar = (await stack.get(`/api/conversations/${id}`)).body.messages;
    const pushed = firstPushedMessage(`/api/conversations/${id}/events?after=${sofar[sofar.length - 1].id}`);
    const closed = await waitFor(async () => {
      const res = await stack.get(`/api/conversations/${id}`);
      return res.body.status === 'closed' ? res.body : undefined;
    });
    const last = closed.messages[closed.messages.length - 1];
    expect(last).toMatchObject({ from: 'bot', kind: 'system' });
    expect(last.text).toContain('会话已结束');
    // A client listening on the event stream is told too.
    expect(await pushed).toMatchObject({ id: last.id, from: 'bot', text: last.text });
    await stack.client.workflow.getHandle(`conv-${id}`).result(); // the workflow itself has completed
    saveFixture('registry-inactivity-close', await stack.client.workflow.getHandle(`conv-${id}`).fetchHistory());

    const next = await stack.post('web', { userId: 'idle-user', text: '你好' });
    expect(next.status).toBe(200);
    expect(next.body.conversationId).not.toBe(id);
    // Writing into the closed conversation by id opens a new one too, instead of losing the message.
    const explicit = await stack.post('web', { userId: 'idle-user', text: '还在吗', conversationId: id });
    expect(explicit.status).toBe(200);
    expect(explicit.body.conversationId).toBe(next.body.conversationId);
  });

  it('replays the committed histories of earlier versions without non-determinism', async () => {
    const histories = loadFixtures();
    expect(histories.length).toBeGreaterThanOrEqual(3);
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
      expect(r.error, `${r.workflowId}: ${r.error}`).toBeUndefined();
    }
  });
});

/** The first `message` event of a conversation's SSE stream. */
async function firstPushedMessage(path: string): Promise<{ id: string; from: string; text: string }> {
  const controller = new AbortController();
  const res = await fetch(`${stack.baseUrl}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` }, signal: controller.signal });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('event stream ended without a message');
    buffered += new TextDecoder().decode(value);
    const match = buffered.match(/event: message\ndata: (.+)\n\n/);
    if (match) {
      controller.abort();
      return JSON.parse(match[1]);
    }
  }
}

async function firstRunId(conversationId: string): Promise<string> {
  const history = await stack.client.workflow.getHandle(`conv-${conversationId}`).fetchHistory();
  return String(history.events?.[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId);
}
