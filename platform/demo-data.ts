import type { NewOrder, NewRecharge, NewUser, NewWithdrawal, PlatformStore } from './store';

const days = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
const minutes = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

/**
 * A small demo shop and creator community: a shopper with orders in every state, a VIP (set by hand, so the RFM
 * recompute keeps it), a would-be streamer who misses one live condition, and a user whose recharge is still pending.
 * The others' tiers are the RFM recompute's. Re-seeded (upserted) by `npm start`.
 */
const DEMO_USERS: NewUser[] = [
  { id: 'demo-user', nickname: '小林', realNameVerified: true, followers: 86, publicVideos: 12, phone: '13800138000' },
  { id: 'vip-user', nickname: '阿青', tier: 'vip', realNameVerified: true, followers: 25_800, publicVideos: 230, phone: '13900139000', livePermission: 'granted' },
  { id: 'streamer-user', nickname: '小播', realNameVerified: true, followers: 312, publicVideos: 4 },
  { id: 'wallet-user', nickname: '钱包君', realNameVerified: true, phone: '13700137000' },
];

function demoOrders(): NewOrder[] {
  return [
    { id: '6921000000000001', userId: 'demo-user', product: '山茶花保湿面霜', amount: 45, shippingFee: 8, status: 'paid', createdAt: days(1) },
    {
      id: '6921000000000002', userId: 'demo-user', product: '手冲咖啡壶套装', amount: 129, status: 'shipped', carrier: '顺达快递',
      trackingNo: 'SD8803412256', createdAt: days(3), shippedAt: days(2),
      logisticsEvents: [
        { at: days(2), text: '商家已发货，顺达快递已揽收' },
        { at: days(1), text: '快件已到达【杭州转运中心】' },
        { at: days(0.3), text: '快件已从【杭州转运中心】发出，下一站【上海浦东营业部】' },
      ],
    },
    {
      id: '6921000000000003', userId: 'demo-user', product: '纯棉四件套', amount: 199, status: 'delivered', carrier: '中远物流',
      trackingNo: 'ZY5520918833', createdAt: days(9), shippedAt: days(8), deliveredAt: days(5),
      logisticsEvents: [{ at: days(5), text: '已签收，签收人：本人' }],
    },
    { id: '6921000000000004', userId: 'vip-user', product: '蓝牙降噪耳机', amount: 56, shippingFee: 15, status: 'paid', remoteRegion: true, createdAt: days(0) },
    { id: '6921000000000005', userId: 'vip-user', product: '真丝睡衣', amount: 89, shippingFee: 10, status: 'paid', freeShippingThreshold: 99, createdAt: days(0.5) },
  ];
}

const DEMO_RECHARGES: NewRecharge[] = [{ id: 'RC-DEMO-1', userId: 'wallet-user', amount: 30, coins: 300, status: 'pending', createdAt: minutes(12) }];
const DEMO_WITHDRAWALS: NewWithdrawal[] = [
  { id: 'WD-DEMO-1', userId: 'wallet-user', amount: 200, status: 'failed', failureReason: '收款银行卡户名与实名信息不一致', createdAt: days(1) },
];

export async function seedDemoPlatform(store: PlatformStore): Promise<void> {
  for (const u of DEMO_USERS) await store.upsertUser(u);
  for (const o of demoOrders()) await store.upsertOrder(o);
  for (const r of DEMO_RECHARGES) await store.upsertRecharge(r);
  for (const w of DEMO_WITHDRAWALS) await store.upsertWithdrawal(w);
}
