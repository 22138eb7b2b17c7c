import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { viewQuery } from '../../workflows/conversation';
import { saveFixture } from '../support/fixtures';
import { ADMIN_TOKEN, startStack, TOKEN, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('channel_api');
});
afterAll(async () => stack?.teardown());

const kinds = (body: { replies: Array<{ kind: string }> }) => body.replies.map((r) => r.kind);

describe('a Chinese conversation through the channel API', () => {
  it('greets, answers from the knowledge graph, offers the next-best fix, then hands over to a human', async () => {
    const first = await stack.post('app', { userId: 'zhang-san', text: '你好' });
    expect(first.status).toBe(200);
    expect(kinds(first.body)).toEqual(['system', 'question']);
    expect(first.body.replies[0].text).toContain('您好');
    expect(first.body.state).toBe('idle');
    const conversationId = first.body.conversationId;

    const asked = await stack.post('app', { userId: 'zhang-san', text: '我发的视频播放量一直只有几十，是不是被限流了' });
    expect(asked.body.conversationId).toBe(conversationId);
    expect(asked.body.state).toBe('answering.awaitingFeedback');
    expect(asked.body.intent.name).toBe('creator.low_traffic');
    // The answer and the feedback question; the offer waits until the problem is solved (an apology first if upset).
    expect(kinds(asked.body).filter((k: string) => k !== 'apology')).toEqual(['answer', 'question']);

    const rejected = await stack.post('app', { userId: 'zhang-san', text: '没用' });
    expect(rejected.body.state).toBe('offeringAlternative.awaitingFeedback');
    expect(rejected.body.replies[0].text).toContain('再试试');

    const escalated = await stack.post('app', { userId: 'zhang-san', text: '还是不行' });
    expect(escalated.body.state).toBe('handoff.queued');
    expect(escalated.body.handoff).toEqual({ status: 'queued', queue: 'creator' });
    expect(kinds(escalated.body)).toContain('handoff');

    const [handoff] = await stack.ds.query('SELECT status, reason FROM handoffs WHERE conversation_id = $1', [conversationId]);
    expect(handoff).toEqual({ status: 'queued', reason: 'solutions_rejected' });

    const conv = await stack.get(`/api/conversations/${conversationId}`);
    expect(conv.status).toBe(200);
    expect(conv.body).toMatchObject({ id: conversationId, userId: 'zhang-san', status: 'open', state: 'handoff.queued', channels: ['app'] });
    const userTexts = conv.body.messages.filter((m: { from: string }) => m.from === 'user').map((m: { text: string }) => m.text);
    expect(userTexts).toEqual(['你好', '我发的视频播放量一直只有几十，是不是被限流了', '没用', '还是不行']);
    expect(conv.body.messages.filter((m: { from: string }) => m.from === 'bot')).toHaveLength(2 + 3 + 2 + 2);

    // The workflow keeps the same story, for ops in the Temporal UI.
    const view = await stack.client.workflow.getHandle(`conv-${conversationId}`).query(viewQuery);
    expect(view).toMatchObject({ state: 'handoff.queued', turns: 4, rejections: 2 });
  });

  it('asks which topic is meant when the question is ambiguous, and answers the numbered choice', async () => {
    // "账号有问题" could be a hacked account, a ban or a throttled one: the bot must not guess.
    const asked = await stack.post('web', { userId: 'li-si', text: '账号有问题' });
    expect(asked.body.state).toBe('clarifying');
    const clarify = asked.body.replies.find((r: { kind: string }) => r.kind === 'question');
    const options = clarify.options.map((o: { intent: string }) => o.intent);
    expect(options.length).toBeGreaterThanOrEqual(3);
    expect(options.filter((o: string) => o.startsWith('account.')).length).toBeGreaterThanOrEqual(2);
    expect(options.at(-1)).toBe('meta.human');
    const picked = await stack.post('web', { userId: 'li-si', text: '2' });
    expect(picked.body.state).toBe('answering.awaitingFeedback');
    expect(picked.body.replies[0].text).toContain(clarify.options[1].label);
    saveFixture('registry-clarifying-question', await stack.client.workflow.getHandle(`conv-${asked.body.conversationId}`).fetchHistory());
  });

  it('says goodbye and starts a fresh conversation for the next message', async () => {
    const a = await stack.post('app', { userId: 'wang-wu', text: '怎么开通直播' });
    expect(a.body.intent.name).toBe('live.permission');
    const bye = await stack.post('app', { userId: 'wang-wu', text: '好的再见' });
    expect(bye.body.state).toBe('closed');
    const next = await stack.post('app', { userId: 'wang-wu', text: '你好' });
    expect(next.body.conversationId).not.toBe(a.body.conversationId);
    const old = await stack.get(`/api/conversations/${a.body.conversationId}`);
    expect(old.body.status).toBe('closed');
  });
});

describe('phone keypad', () => {
  it('reaches a person with 0 while the bot waits for an order number, and reports a neutral emotion for the key', async () => {
    const asked = await stack.post('phone', { userId: 'caller-1', text: '喂 你好 我想问下运费多少' });
    expect(asked.body.state).toBe('collectingOrder');
    const human = await stack.post('phone', { userId: 'caller-1', dtmf: '0' });
    expect(human.status).toBe(200);
    expect(human.body.state).toBe('handoff.queued');
    expect(human.body.handoff).toEqual({ status: 'queued', queue: 'order' });
    expect(human.body.emotion).toEqual({ label: 'neutral', score: 1 });
    const repeated = await stack.post('phone', { userId: 'caller-2', text: '实名认证怎么弄' });
    const again = await stack.post('phone', { userId: 'caller-2', dtmf: '*' });
    expect(again.body.state).toBe(repeated.body.state);
    expect(again.body.replies.slice(1).map((r: { text: string }) => r.text)).toEqual(repeated.body.replies.map((r: { text: string }) => r.text));
    const menu = await stack.post('phone', { userId: 'caller-2', dtmf: '#' });
    expect(menu.body.state).toBe('menu');
  });
});

describe('idempotency', () => {
  it('returns the same reply for a retried messageId and processes it once', async () => {
    const body = { userId: 'retry-user', text: '订单一直没发货怎么回事', messageId: 'client-msg-1' };
    const first = await stack.post('app', body);
    const again = await stack.post('app', body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(first.body.messageId).toBe('client-msg-1');
    const [{ n }] = await stack.ds.query(`SELECT count(*)::int AS n FROM messages WHERE user_id = 'retry-user' AND sender = 'user'`);
    expect(n).toBe(1);
  });

  it('processes a retry that arrives while the first request is still running only once', async () => {
    const body = { userId: 'race-user', text: '退货退款要多久到账', messageId: 'race-1' };
    const results = await Promise.all([stack.post('app', body), stack.post('app', body), stack.post('web', body)]);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body).toEqual(results[0].body);
    }
    const conversationId = results[0].body.conversationId;
    const view = await stack.client.workflow.getHandle(`conv-${conversationId}`).query(viewQuery);
    expect(view.turns).toBe(1);
    const [{ n }] = await stack.ds.query(`SELECT count(*)::int AS n FROM messages WHERE user_id = 'race-user' AND sender = 'user'`);
    expect(n).toBe(1);
  });
});

describe('cross-channel continuation', () => {
  it('continues the open conversation when the user writes on another channel', async () => {
    const app = await stack.post('app', { userId: 'zhao-liu', text: '我的账号被盗了怎么办' });
    const web = await stack.post('web', { userId: 'zhao-liu', text: '还是没用' });
    const phone = await stack.post('phone', { userId: 'zhao-liu', dtmf: '0' });
    expect(web.body.conversationId).toBe(app.body.conversationId);
    expect(phone.body.conversationId).toBe(app.body.conversationId);
    const conv = await stack.get(`/api/conversations/${app.body.conversationId}`);
    expect(conv.body.channels).toEqual(['app', 'web', 'phone']);
    // Ops see the same in the Temporal UI: search attributes and memo follow the conversation.
    const described = await stack.client.workflow.getHandle(`conv-${app.body.conversationId}`).describe();
    expect(described.memo).toMatchObject({ userId: 'zhao-liu', channels: ['app', 'web', 'phone'], rejections: 1 });
    expect(described.searchAttributes).toMatchObject({ CsChannel: ['phone'], CsUserTier: ['standard'] });
    expect(conv.body.messages.filter((m: { from: string }) => m.from === 'user').map((m: { channel: string }) => m.channel)).toEqual([
      'app',
      'web',
      'phone',
    ]);
  });

  it('lists only the messages after a given one', async () => {
    const a = await stack.post('email', { userId: 'after-user', text: '发票怎么开', messageId: 'mail-1' });
    await stack.post('email', { userId: 'after-user', text: '有用', messageId: 'mail-2' });
    const later = await stack.get(`/api/conversations/${a.body.conversationId}/messages?after=mail-1`);
    expect(later.status).toBe(200);
    const texts = later.body.messages.map((m: { text: string }) => m.text);
    expect(texts[0]).not.toBe('发票怎么开');
    expect(texts).toContain('有用');
  });
});

describe('bad input is refused with a clear error and nothing is stored', () => {
  const cases: Array<[string, () => Promise<{ status: number; body: any; headers?: Headers }>, number, string]> = [
    ['an empty message', () => stack.post('app', { userId: 'bad-user', text: '   ' }), 400, 'empty_message'],
    ['a text over 2000 characters', () => stack.post('app', { userId: 'bad-user', text: '长'.repeat(2001) }), 413, 'text_too_long'],
    ['malformed JSON', () => stack.post('app', '{"userId": "bad-user", "text": '), 400, 'invalid_json'],
    ['a bad userId', () => stack.post('app', { userId: '张三', text: '你好' }), 400, 'invalid_request'],
    ['an unknown channel', () => stack.post('fax', { userId: 'bad-user', text: '你好' }), 400, 'invalid_channel'],
    ['a wrong token', () => stack.post('app', { userId: 'bad-user', text: '你好' }, { Authorization: 'Bearer nope' }), 401, 'unauthorized'],
    [
      'an unknown conversation',
      () => stack.post('app', { userId: 'bad-user', text: '你好', conversationId: '123456789' }),
      404,
      'conversation_not_found',
    ],
    [
      'an image over 5 MB',
      () => stack.post('app', { userId: 'bad-user', image: `data:image/png;base64,${'A'.repeat(7_000_000)}` }),
      413,
      'image_too_large',
    ],
    ['a body over the size limit', () => stack.post('app', { userId: 'bad-user', text: 'x'.repeat(8_000_000) }), 413, 'payload_too_large'],
    ['reading an unknown conversation', () => stack.get('/api/conversations/42'), 404, 'conversation_not_found'],
  ];

  it.each(cases)('%s', async (_name, send, status, code) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(typeof res.body.error.message).toBe('string');
  });

  it('stored no message for any refused request', async () => {
    const [{ n }] = await stack.ds.query(`SELECT count(*)::int AS n FROM messages WHERE user_id = 'bad-user'`);
    expect(n).toBe(0);
  });

  it('refuses requests without a token on every endpoint', async () => {
    const res = await fetch(`${stack.baseUrl}/api/conversations/1`);
    expect(res.status).toBe(401);
    expect(TOKEN).not.toBe('');
  });
});

describe('answers from the user’s own order (platform stand-in + dialogue state)', () => {
  const admin = (path: string, body: unknown, token = ADMIN_TOKEN) =>
    fetch(`${stack.baseUrl}/api/admin${path}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('creates users and orders through the admin API, validating them', async () => {
    expect((await admin('/users/shopper-1', { nickname: '小周' })).status).toBe(200);
    const order = await admin('/orders/6921000000000777', { userId: 'shopper-1', product: '香薰蜡烛', amount: 45, shippingFee: 8 });
    expect(order.status).toBe(200);
    expect(await order.json()).toMatchObject({ orderId: '6921000000000777', amount: 45, status: 'paid' });
    const bad = await admin('/orders/6921000000000778', { userId: 'shopper-1', product: '香薰蜡烛', amount: -1 });
    expect(bad.status).toBe(400);
    expect((await admin('/orders/6921000000000779', { userId: 'nobody', product: 'x', amount: 1 })).status).toBe(404);
    expect((await admin('/users/x', { nickname: 'x' }, 'wrong')).status).toBe(401);
  });

  it('answers "运费多少", "能包邮吗" and "那退货呢" from the user\'s only order, and from a named one', async () => {
    const fee = await stack.post('app', { userId: 'shopper-1', text: '这单运费多少' });
    expect(fee.body.state).toBe('answering.awaitingFeedback');
    expect(fee.body.replies.map((r: { text: string }) => r.text).join('\n')).toContain('订单 6921000000000777（香薰蜡烛）实付 45 元，运费 8 元');

    // An order number in the message is used as given (the number may be grouped or labelled).
    const withOrder = await stack.post('app', { userId: 'shopper-1', text: '订单号：6921 0000 0000 0777 运费多少' });
    expect(withOrder.body.state).toBe('answering.awaitingFeedback');
    expect(withOrder.body.replies[0].text).toContain('实付 45 元，运费 8 元');

    const free = await stack.post('app', { userId: 'shopper-1', text: '能包邮吗' });
    expect(free.body.intent.name).toBe('order.free_shipping');
    expect(free.body.replies[0].text).toContain('还差 14 元才满 59 元包邮');

    const refund = await stack.post('app', { userId: 'shopper-1', text: '那退货呢' });
    expect(refund.body.intent.name).toBe('order.return_refund');
    expect(refund.body.replies[0].text).toContain('6921000000000777');
    expect(refund.body.replies[0].text).toContain('还没发货，可以直接申请仅退款');
    saveFixture('registry-order-questions', await stack.client.workflow.getHandle(`conv-${fee.body.conversationId}`).fetchHistory());
  });
});
