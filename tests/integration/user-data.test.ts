import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack';

// The bot answers from what the platform knows about the user: orders (picked without asking where it can),
// each order's shop free-shipping threshold, account facts. Fixtures are made through the admin API.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('user_data');
});
afterAll(async () => stack?.teardown());

const admin = (path: string, body: unknown) => stack.admin('PUT', path, body);
const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
const allText = (body: { replies: Array<{ text: string }> }) => body.replies.map((r) => r.text).join('\n');

describe('orders the bot looks up itself', () => {
  it('answers 运费 then 包邮 from the one fitting order, below its shop threshold, without asking for a number', async () => {
    await admin('/users/shopper-below', { nickname: '小雨' });
    await admin('/orders/7000000000000001', { userId: 'shopper-below', product: '香薰蜡烛', amount: 39, shippingFee: 6, status: 'paid', freeShippingThreshold: 59, createdAt: hoursAgo(2) });
    await admin('/orders/7000000000000002', { userId: 'shopper-below', product: '旧书架', amount: 120, status: 'delivered', createdAt: hoursAgo(400), deliveredAt: hoursAgo(300) });
    const fee = await stack.post('app', { userId: 'shopper-below', text: '我刚拍的那单运费是多少啊' });
    expect(fee.body.state).toBe('answering.awaitingFeedback');
    expect(allText(fee.body)).toContain('订单 7000000000000001（香薰蜡烛）实付 39 元，运费 6 元');
    expect(allText(fee.body)).not.toContain('请提供订单号');
    const free = await stack.post('app', { userId: 'shopper-below', text: '那能包邮吗' });
    expect(free.body.intent.name).toBe('order.free_shipping');
    expect(allText(free.body)).toContain('还差 20 元才满 59 元包邮');
    expect(allText(free.body)).not.toContain('请提供订单号');
  });

  it('says an order at its shop threshold ships free', async () => {
    await admin('/users/shopper-above', { nickname: '阿木' });
    await admin('/orders/7000000000000003', { userId: 'shopper-above', product: '登山背包', amount: 99, status: 'paid', freeShippingThreshold: 99 });
    const free = await stack.post('web', { userId: 'shopper-above', text: '这单能包邮吗' });
    expect(allText(free.body)).toContain('实付 99 元，已满 99 元，可以包邮');
  });

  it('offers several fitting orders as a numbered pick naming number, product and status', async () => {
    await admin('/users/shopper-many', { nickname: '多多' });
    await admin('/orders/7000000000000004', { userId: 'shopper-many', product: '保温杯', amount: 69, status: 'paid', createdAt: hoursAgo(3) });
    await admin('/orders/7000000000000005', { userId: 'shopper-many', product: '蓝牙音箱', amount: 199, status: 'paid', createdAt: hoursAgo(5) });
    const asked = await stack.post('app', { userId: 'shopper-many', text: '我想改一下收货地址' });
    expect(asked.body.state).toBe('choosingOrder');
    const question = asked.body.replies.at(-1);
    expect(question.options.slice(0, 2)).toEqual([
      { key: '1', label: '订单 7000000000000004｜保温杯｜已付款，待发货', orderId: '7000000000000004' },
      { key: '2', label: '订单 7000000000000005｜蓝牙音箱｜已付款，待发货', orderId: '7000000000000005' },
    ]);
    const picked = await stack.post('app', { userId: 'shopper-many', text: '2' });
    expect(picked.body.state).toBe('answering.collectingAddress'); // and asks for the new address
    expect(allText(picked.body)).toContain('订单 7000000000000005（蓝牙音箱）还没发货，可以修改收货地址');
  });

  it('asks for the order number only when the platform has no order for the user', async () => {
    await admin('/users/shopper-none', { nickname: '新人' });
    const asked = await stack.post('app', { userId: 'shopper-none', text: '我的快递到哪了' });
    expect(asked.body.state).toBe('collectingOrder');
    expect(allText(asked.body)).toContain('订单号');
  });

  it('tells where a shipped order is from its latest logistics event', async () => {
    await admin('/users/shopper-track', { nickname: '追单' });
    await admin('/orders/7000000000000006', {
      userId: 'shopper-track', product: '跑步鞋', amount: 299, status: 'shipped', carrier: '顺达快递', trackingNo: 'SD900',
      logisticsEvents: [
        { at: hoursAgo(30), text: '商家已发货' },
        { at: hoursAgo(4), text: '快件已到达【杭州转运中心】' },
      ],
    });
    const res = await stack.post('app', { userId: 'shopper-track', text: '物流怎么一直不动' });
    expect(allText(res.body)).toContain('最新物流');
    expect(allText(res.body)).toContain('快件已到达【杭州转运中心】');
  });
});

describe('answers from the account', () => {
  it('says which live-streaming condition is missing for a user who misses one, and how to meet it', async () => {
    const user = await admin('/users/streamer-1', { nickname: '小播', realNameVerified: true, adult: true, followers: 312 });
    expect(user.body).toMatchObject({ realNameVerified: true, followers: 312, phoneMasked: null });
    const res = await stack.post('app', { userId: 'streamer-1', text: '我才300多个粉 这样能播吗' });
    expect(res.body.intent.name).toBe('live.permission');
    const text = allText(res.body);
    expect(text).toContain('还差 1 项');
    expect(text).toContain('绑定手机号：在「我-设置-账号与安全-手机号绑定」绑定手机号');
    expect(text).toContain('粉丝数不影响开播');
  });

  it('reports a pending recharge from the wallet records', async () => {
    await admin('/users/payer-1', { nickname: '充值用户', phone: '13800001111' });
    await admin('/recharges/R1', { userId: 'payer-1', amount: 30, coins: 300, status: 'pending', createdAt: hoursAgo(0.2) });
    const res = await stack.post('app', { userId: 'payer-1', text: '充值的星币怎么还没到账' });
    expect(res.body.intent.name).toBe('pay.recharge');
    expect(allText(res.body)).toMatch(/分钟前充值的 30 元（300 星币）还在处理中/);
  });

  it('refuses bad account facts with a clear error', async () => {
    const bad = await admin('/users/bad-facts', { nickname: 'x', followers: -1, phone: '123', unknownField: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const taken = await admin('/users/copycat', { nickname: '撞号', phone: '13800001111' });
    expect(taken.status).toBe(409);
    const orphan = await admin('/recharges/R2', { userId: 'nobody-here', amount: 6, coins: 60 });
    expect(orphan.status).toBe(404);
  });
});

describe('acting on the order', () => {
  it('cancels a paid order after "确认", exactly once even when the confirmation is sent twice at the same time', async () => {
    await admin('/users/canceller', { nickname: '改主意了' });
    await admin('/orders/7200000000000001', { userId: 'canceller', product: '空气炸锅', amount: 299, status: 'paid' });
    const asked = await stack.post('app', { userId: 'canceller', text: '我不想要了 帮我取消订单' });
    expect(asked.body.state).toBe('answering.confirmingAction');
    expect(allText(asked.body)).toContain('需要我现在帮您取消订单吗？订单 7200000000000001（空气炸锅）');
    expect(asked.body.actions).toEqual([]);
    const [a, b] = await Promise.all([
      stack.post('app', { userId: 'canceller', text: '确认', messageId: 'cancel-yes' }),
      stack.post('app', { userId: 'canceller', text: '确认', messageId: 'cancel-yes' }),
    ]);
    expect(a.body).toEqual(b.body);
    expect(a.body.actions).toEqual([{ type: 'order_cancelled', id: expect.stringMatching(/^ACT-/), status: 'done', orderId: '7200000000000001' }]);
    const listed = await stack.admin('GET', '/users/canceller/actions');
    expect(listed.body.actions).toHaveLength(1);
    expect((await stack.admin('GET', '/users/canceller/orders/7200000000000001')).body.status).toBe('cancelled');
    // Saying yes again later does not act again.
    const again = await stack.post('app', { userId: 'canceller', text: '确认' });
    expect(again.body.actions).toEqual([]);
    expect((await stack.admin('GET', '/users/canceller/actions')).body.actions).toHaveLength(1);
  });

  it('takes no action on "不用了", and explains instead of offering when the order does not allow it', async () => {
    await admin('/users/decliner', { nickname: '算了' });
    await admin('/orders/7200000000000002', { userId: 'decliner', product: '台灯', amount: 88, status: 'paid' });
    await stack.post('app', { userId: 'decliner', text: '取消订单' });
    const no = await stack.post('app', { userId: 'decliner', text: '不用了' });
    expect(no.body.state).toBe('idle');
    expect((await stack.admin('GET', '/users/decliner/actions')).body.actions).toEqual([]);

    await admin('/users/late-returner', { nickname: '晚了' });
    await admin('/orders/7200000000000003', { userId: 'late-returner', product: '书桌', amount: 399, status: 'delivered', deliveredAt: hoursAgo(24 * 20) });
    const late = await stack.post('app', { userId: 'late-returner', text: '我要退货' });
    expect(late.body.state).toBe('answering.awaitingFeedback');
    expect(allText(late.body)).toContain('超过 7 天无理由退货期');
  });
});

describe('the platform acts once per idempotency key', () => {
  it('returns the first record to a retried or concurrent request with the same key, and changes the order once', async () => {
    const { PlatformStore } = await import('../../platform/store');
    const platform = new PlatformStore(stack.ds);
    await admin('/users/retry-buyer', { nickname: '重试' });
    await admin('/orders/7200000000000009', { userId: 'retry-buyer', product: '电饭煲', amount: 199, status: 'paid' });
    const request = { idempotencyKey: 'conv-1:turn-3:order_cancelled', userId: 'retry-buyer', orderId: '7200000000000009', type: 'order_cancelled' as const };
    const results = await Promise.all([platform.performOrderAction(request), platform.performOrderAction(request), platform.performOrderAction(request)]);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results[0].status).toBe('done');
    const later = await platform.performOrderAction(request); // e.g. the activity retried after a worker crash
    expect(later).toEqual(results[0]);
    // A new request (another turn) is judged on the order as it is now: already cancelled.
    const second = await platform.performOrderAction({ ...request, idempotencyKey: 'conv-1:turn-5:order_cancelled' });
    expect(second).toMatchObject({ status: 'refused', reason: expect.stringContaining('不能直接取消') });
    expect(await platform.orderActions('retry-buyer')).toHaveLength(2);
  });
});

describe('compensation', () => {
  it('gives an angry user whose parcel has not moved for a week an apology, the fix and exactly one coupon', async () => {
    await admin('/users/angry-buyer', { nickname: '急死了' });
    await admin('/orders/7400000000000001', {
      userId: 'angry-buyer', product: '儿童自行车', amount: 459, status: 'shipped', carrier: '顺达快递', trackingNo: 'SD1',
      logisticsEvents: [{ at: hoursAgo(24 * 8), text: '快件已到达【郑州转运中心】' }],
    });
    const first = await stack.post('app', { userId: 'angry-buyer', text: '物流一个多星期没更新了 快递到底到哪了 气死我了', messageId: 'angry-1' });
    const kinds = first.body.replies.map((r: { kind: string }) => r.kind);
    expect(kinds.indexOf('apology')).toBeLessThan(kinds.indexOf('answer'));
    const coupon = first.body.actions.find((a: { type: string }) => a.type === 'coupon');
    expect(coupon).toMatchObject({ status: 'issued', amount: expect.any(Number) });
    expect(allText(first.body)).toContain(`${coupon.amount} 元无门槛优惠券`);
    // The same message retried, and the user insisting: still one coupon.
    const retry = await stack.post('app', { userId: 'angry-buyer', text: '物流一个多星期没更新了 快递到底到哪了 气死我了', messageId: 'angry-1' });
    expect(retry.body).toEqual(first.body);
    const refused = await stack.post('app', { userId: 'angry-buyer', text: '一张券就想打发我？我要的是东西' });
    expect(refused.body.actions.filter((a: { type: string }) => a.type === 'coupon')).toEqual([]);
    expect(['answering.confirmingAction', 'handoff.queued']).toContain(refused.body.state);
    const coupons = (await stack.admin('GET', '/users/angry-buyer/coupons')).body.coupons;
    expect(coupons).toHaveLength(1);
    expect(coupons[0]).toMatchObject({ amount: coupon.amount, conversationId: first.body.conversationId });
  });

  it('keeps within the budgets and compensates an incident once, also under concurrent requests', async () => {
    const { CouponStore } = await import('../../db/coupon-store');
    const coupons = new CouponStore(stack.ds, { perUser30Days: 20, perConversation: 1, dailyTotal: 100_000 });
    const incident = { userId: 'budget-user', conversationId: '1', amount: 15, reason: 'test', incidentKey: 'budget-user:order.logistics:1' };
    const outcomes = await Promise.all([coupons.issue(incident), coupons.issue(incident), coupons.issue(incident)]);
    expect(new Set(outcomes.map((o) => (o.issued ? o.id : 'none'))).size).toBe(1);
    expect((await coupons.list('budget-user')).length).toBe(1);
    expect(await coupons.issue({ ...incident, conversationId: '2' })).toEqual({ issued: false, reason: 'already_compensated' });
    expect(await coupons.issue({ ...incident, conversationId: '1', incidentKey: 'budget-user:pay.withdraw:account' })).toEqual({ issued: false, reason: 'conversation_limit' });
    expect(await coupons.issue({ ...incident, conversationId: '3', incidentKey: 'budget-user:pay.withdraw:account' })).toEqual({ issued: false, reason: 'user_budget' });
    const tight = new CouponStore(stack.ds, { perUser30Days: 1000, perConversation: 5, dailyTotal: 1 });
    expect(await tight.issue({ ...incident, userId: 'other', conversationId: '4', incidentKey: 'other:x:1' })).toEqual({ issued: false, reason: 'daily_budget' });
  });
});

describe('changing the address', () => {
  it('changes a paid order\'s address after the user gives it and confirms', async () => {
    await admin('/users/mover', { nickname: '搬家了' });
    await admin('/orders/7500000000000001', { userId: 'mover', product: '收纳箱', amount: 69, status: 'paid' });
    const asked = await stack.post('app', { userId: 'mover', text: '我搬家了 订单地址想改一下' });
    expect(asked.body.state).toBe('answering.collectingAddress');
    const given = await stack.post('app', { userId: 'mover', text: '广东省深圳市南山区科技园路 8 号 2 栋 1603' });
    expect(given.body.state).toBe('answering.confirmingAction');
    const done = await stack.post('app', { userId: 'mover', text: '确认' });
    expect(done.body.actions).toEqual([expect.objectContaining({ type: 'address_changed', status: 'done', orderId: '7500000000000001' })]);
    const [order] = await stack.ds.query(`SELECT shipping_address FROM platform_orders WHERE id = '7500000000000001'`);
    expect(order.shipping_address).toBe('广东省深圳市南山区科技园路 8 号 2 栋 1603');
  });
});

describe('every order action, the VIP queue, budgets and a platform outage', () => {
  it.each([
    ['return_opened', '我要退货退款', { status: 'delivered', deliveredAt: hoursAgo(48) }],
    ['reship_requested', '收到的杯子碎了 还少发了一个', { status: 'delivered', deliveredAt: hoursAgo(24) }],
    ['complaint_filed', '物流五天没动了 到底在哪', { status: 'shipped', logisticsEvents: [{ at: hoursAgo(24 * 5), text: '快件已到达【武汉转运中心】' }] }],
  ])('does %s after a yes', async (type, text, order) => {
    const userId = `acts-${type}`;
    await admin(`/users/${userId}`, { nickname: '动作测试' });
    await admin(`/orders/77${String(type.length).padStart(14, '0')}`, { userId, product: '玻璃杯', amount: 99, ...order });
    const asked = await stack.post('app', { userId, text });
    expect(asked.body.state).toBe('answering.confirmingAction');
    const done = await stack.post('app', { userId, text: '好的 确认' });
    expect(done.body.actions).toEqual([expect.objectContaining({ type, status: 'done' })]);
  });

  it('sends a VIP who asks for a person to the VIP queue with the 专属 wording', async () => {
    await admin('/users/vip-caller', { nickname: '签约主播', tier: 'vip' });
    await stack.post('app', { userId: 'vip-caller', text: '你好' });
    const human = await stack.post('app', { userId: 'vip-caller', text: '转人工' });
    expect(human.body.handoff).toEqual({ status: 'queued', queue: 'vip' });
    expect(allText(human.body)).toContain('专属客服');
  });

  it('apologises without a coupon once the user\'s 30-day budget is spent, and logs the refusal', async () => {
    await admin('/users/spent-buyer', { nickname: '券用完了' });
    await admin('/orders/7800000000000001', {
      userId: 'spent-buyer', product: '电风扇', amount: 199, status: 'shipped', logisticsEvents: [{ at: hoursAgo(24 * 9), text: '已揽收' }],
    });
    await stack.ds.query(
      `INSERT INTO coupons (id, incident_key, user_id, conversation_id, amount, reason) VALUES ('CPN-old', 'spent-buyer:old', 'spent-buyer', 1, 60, 'earlier')`,
    );
    const res = await stack.post('app', { userId: 'spent-buyer', text: '物流一个多星期没更新了 快递到底到哪了 气死我了' });
    const kinds = res.body.replies.map((r: { kind: string }) => r.kind);
    expect(kinds.indexOf('apology')).toBeGreaterThan(-1);
    expect(kinds.indexOf('apology')).toBeLessThan(kinds.indexOf('answer'));
    expect(res.body.actions.filter((a: { type: string }) => a.type === 'coupon')).toEqual([]);
    const [{ n }] = await stack.ds.query(`SELECT count(*)::int AS n FROM events WHERE type = 'coupon_refused' AND conversation_id = $1`, [res.body.conversationId]);
    expect(n).toBe(1);
  });

  it('says nothing was done when the platform is down during an action, and does it once when it is back', async () => {
    await admin('/users/outage-buyer', { nickname: '平台故障' });
    await admin('/orders/7900000000000001', { userId: 'outage-buyer', product: '台灯', amount: 120, status: 'paid' });
    await stack.post('app', { userId: 'outage-buyer', text: '帮我取消订单' });
    await stack.ds.query('ALTER TABLE platform_order_actions RENAME TO platform_order_actions_offline');
    let failed;
    try {
      failed = await stack.post('app', { userId: 'outage-buyer', text: '确认' });
    } finally {
      await stack.ds.query('ALTER TABLE platform_order_actions_offline RENAME TO platform_order_actions');
    }
    expect(allText(failed.body)).toContain('没能办理成功，您的订单没有变化');
    expect(failed.body.actions).toEqual([]);
    const again = await stack.post('app', { userId: 'outage-buyer', text: '帮我取消订单' });
    expect(again.body.state).toBe('answering.confirmingAction');
    const done = await stack.post('app', { userId: 'outage-buyer', text: '确认' });
    expect(done.body.actions).toEqual([expect.objectContaining({ type: 'order_cancelled', status: 'done' })]);
    expect((await stack.admin('GET', '/users/outage-buyer/actions')).body.actions).toHaveLength(1);
  });
});
