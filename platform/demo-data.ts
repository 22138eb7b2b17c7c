import type { NewOrder, NewUser, PlatformStore } from './store';

const days = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

/** A small demo shop: two users and orders in every state the bot talks about. */
const DEMO_USERS: NewUser[] = [
  { id: 'demo-user', nickname: '小林', tier: 'standard' },
  { id: 'vip-user', nickname: '阿青', tier: 'vip' },
];

function demoOrders(): NewOrder[] {
  return [
    { id: '6921000000000001', userId: 'demo-user', product: '山茶花保湿面霜', amount: 45, shippingFee: 8, status: 'paid', remoteRegion: false, createdAt: days(1) },
    { id: '6921000000000002', userId: 'demo-user', product: '手冲咖啡壶套装', amount: 129, shippingFee: 0, status: 'shipped', remoteRegion: false, carrier: '顺达快递', trackingNo: 'SD8803412256', createdAt: days(3), shippedAt: days(2) },
    { id: '6921000000000003', userId: 'demo-user', product: '纯棉四件套', amount: 199, shippingFee: 0, status: 'delivered', remoteRegion: false, carrier: '中远物流', trackingNo: 'ZY5520918833', createdAt: days(9), shippedAt: days(8), deliveredAt: days(5) },
    { id: '6921000000000004', userId: 'vip-user', product: '蓝牙降噪耳机', amount: 56, shippingFee: 15, status: 'paid', remoteRegion: true, createdAt: days(0) },
  ];
}

export async function seedDemoPlatform(store: PlatformStore): Promise<void> {
  for (const u of DEMO_USERS) await store.upsertUser(u);
  for (const o of demoOrders()) await store.upsertOrder(o);
}
