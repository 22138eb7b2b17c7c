import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack';

// Whole conversations through the HTTP API with the real models: follow-ups read inside the topic, switches and
// returns, and conversational acts read against what the bot just said.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('dialogue_context');
});
afterAll(async () => stack?.teardown());

let n = 0;
/** Send the messages of one new user's conversation; returns every response body. */
async function talk(...texts: string[]) {
  const userId = `ctx-user-${++n}`;
  const out = [];
  for (const text of texts) out.push((await stack.post('app', { userId, text })).body);
  return out;
}
const said = (body: { replies: Array<{ text: string }> }) => body.replies.map((r) => r.text).join('\n');

describe('follow-up questions stay inside the topic', () => {
  it('minor refund → "他今年13 要准备啥材料" is answered with the materials for that refund', async () => {
    const [first, follow] = await talk('我儿子偷偷用我手机充了两千多 能退吗', '他今年13 要准备啥材料');
    expect(first.intent.name).toBe('pay.minor_refund');
    expect(follow.state).toBe('answeringDetail.awaitingFeedback');
    expect(follow.intent.name).toBe('pay.minor_refund');
    expect(said(follow)).toContain('身份证');
  });

  it('ban appeal → "号都登不进去 去哪申诉啊" stays with the appeal', async () => {
    const [first, follow] = await talk('我的号被封了 怎么申诉', '号都登不进去 去哪申诉啊');
    expect(first.intent.name).toBe('account.ban_appeal');
    expect(follow.intent.name).toBe('account.ban_appeal');
  });

  it('stolen account → "绑的手机号也被他改了 我现在登都登不进去" stays with account recovery', async () => {
    const [first, follow] = await talk('我的账号被盗了 有人在乱发东西', '绑的手机号也被他改了 我现在登都登不进去');
    expect(first.intent.name).toBe('account.security');
    expect(follow.intent.name).toBe('account.security');
  });

  it('wrong size → "不换了 我直接退吧" is answered as a refund of that order problem', async () => {
    const [first, follow] = await talk('买的鞋子发错码了 想换个码', '不换了 我直接退吧');
    expect(first.intent.name).toBe('order.damaged_wrong');
    expect(['order.damaged_wrong', 'order.return_refund']).toContain(follow.intent.name);
    expect(follow.state).not.toBe('idle');
  });
});

describe('switching and returning', () => {
  it('switches on "对了顺便问下…" and returns on "回到刚才那个"', async () => {
    const [first, switched, back] = await talk('提现一直在审核中 怎么回事', '对了顺便问下 怎么换绑手机号', '回到刚才那个');
    expect(first.intent.name).toMatch(/withdraw/);
    expect(switched.intent.name).toBe('account.change_phone');
    expect(back.intent.name).toBe(first.intent.name);
    expect(back.state).toBe('answering.awaitingFeedback');
  });
});

describe('conversational acts read against what the bot just said', () => {
  it('"行 我去试试" after an answer keeps the conversation open and says how to come back', async () => {
    const [, tried] = await talk('视频上传一直失败怎么办', '行 我去试试');
    expect(tried.state).toBe('idle');
    expect(said(tried)).toContain('随时回来');
    expect(tried.intent.name).not.toBe('meta.goodbye');
  });

  it('"诶 现在到了" after a recharge answer resolves it', async () => {
    const [first, arrived] = await talk('充值的星币没到账', '诶 现在到了');
    expect(first.intent.name).toBe('pay.recharge');
    expect(arrived.state).toBe('resolved');
  });

  it('"实名早就弄好了 还差啥" after the live-permission answer is a question, not "solved"', async () => {
    const [first, asked] = await talk('我想开直播 要什么条件', '实名早就弄好了 还差啥');
    expect(first.intent.name).toBe('live.permission');
    expect(asked.state).not.toBe('resolved');
    expect(said(asked)).not.toContain('问题解决就好');
  });

  it('a follow-up for a user whose account misses one live condition names it', async () => {
    await stack.admin('PUT', '/users/ctx-streamer', { nickname: '小播', realNameVerified: true, followers: 312 });
    const res = await stack.post('app', { userId: 'ctx-streamer', text: '我才300多个粉 这样能播吗' });
    expect(said(res.body)).toContain('还差 1 项');
  });
});
