import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack';

// One person across channels: a caller number or e-mail sender is resolved to the platform user through the
// account's bound phone or e-mail; an unknown caller is a guest until verified, then their history is the user's.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('identity');
});
afterAll(async () => stack?.teardown());

async function admin(path: string, body: unknown) {
  expect((await stack.admin('PUT', path, body)).status).toBe(200);
}

describe('one person across channels', () => {
  it('continues the app conversation when the same person phones, found by the bound phone number', async () => {
    await admin('/users/lin-app', { nickname: '小林', phone: '13812345678', email: 'lin@example.com' });
    const inApp = await stack.post('app', { userId: 'lin-app', text: '充值的星币没到账' });
    const byPhone = await stack.post('phone', { callerId: '+86 138 1234 5678', text: '喂 我刚才在app里问的那个充值的事' });
    expect(byPhone.status).toBe(200);
    expect(byPhone.body.conversationId).toBe(inApp.body.conversationId);
    const byMail = await stack.post('email', { from: 'LIN@example.com', text: '还是没到账' });
    expect(byMail.body.conversationId).toBe(inApp.body.conversationId);
    const conv = (await stack.get(`/api/conversations/${inApp.body.conversationId}`)).body;
    expect(conv.userId).toBe('lin-app');
    expect(conv.channels).toEqual(['app', 'phone', 'email']);
    // The number is not stored by us: only a hash links it to the user.
    const [link] = await stack.ds.query(`SELECT contact_hash, user_id, source FROM identity_links WHERE kind = 'phone'`);
    expect(link).toMatchObject({ user_id: 'lin-app', source: 'platform' });
    expect(link.contact_hash).not.toContain('13812345678');
    expect(JSON.stringify(await stack.ds.query(`SELECT * FROM conversations`))).not.toContain('13812345678');
  });

  it('keeps an unknown caller as a guest, verifies them by order number and phone tail, and merges their history', async () => {
    await admin('/users/zhou-shop', { nickname: '小周', phone: '13900008000' });
    await admin('/orders/7100000000000001', { userId: 'zhou-shop', product: '电热水壶', amount: 89, status: 'paid' });
    await admin('/users/zhou-shop-app', { nickname: '占位' }); // another user, so the caller's number is truly unknown
    // Earlier, in the app, the same person asked something.
    const earlier = await stack.post('app', { userId: 'zhou-shop', text: '怎么开发票' });
    await stack.post('app', { userId: 'zhou-shop', text: '好的 谢谢 再见' });

    // Now they call from a number the platform does not know.
    const call = await stack.post('phone', { callerId: '010-62345678', text: '我那个订单运费多少啊' });
    const guestConv = (await stack.get(`/api/conversations/${call.body.conversationId}`)).body;
    expect(guestConv.userId).toMatch(/^guest-/);
    expect(call.body.state).toBe('collectingVerification');
    const wrong = await stack.post('phone', { callerId: '010-62345678', text: '订单号7100000000000001 尾号1111' });
    expect(wrong.body.state).toBe('collectingVerification');
    const right = await stack.post('phone', { callerId: '010-62345678', text: '订单号7100000000000001 尾号8000' });
    expect(right.body.replies.map((r: { text: string }) => r.text).join('\n')).toContain('身份已核实');
    expect(right.body.replies.map((r: { text: string }) => r.text).join('\n')).toContain('电热水壶');

    // The conversation is the user's now, and the next call from that number finds them directly.
    const merged = (await stack.get(`/api/conversations/${call.body.conversationId}`)).body;
    expect(merged.userId).toBe('zhou-shop');
    const [{ n }] = await stack.ds.query(`SELECT count(*)::int AS n FROM messages WHERE user_id LIKE 'guest-%'`);
    expect(n).toBe(0);
    const again = await stack.post('phone', { callerId: '01062345678', text: '还有个问题' });
    expect(again.body.conversationId).toBe(call.body.conversationId);
    // Both conversations (app and phone) belong to the user.
    const convs = await stack.ds.query(`SELECT id::text FROM conversations WHERE user_id = 'zhou-shop' ORDER BY id`);
    expect(convs.map((c: { id: string }) => c.id)).toEqual([earlier.body.conversationId, call.body.conversationId]);
  });

  it('refuses a caller number on another channel and a message that names nobody', async () => {
    expect((await stack.post('app', { callerId: '13800000000', text: '你好' })).status).toBe(400);
    expect((await stack.post('phone', { text: '你好' })).body.error.code).toBe('invalid_request');
  });
});
