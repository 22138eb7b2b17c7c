import { describe, expect, it } from 'vitest';
import { extractSlots, mergeSlots } from '../../machines/slots';

describe('slot extraction', () => {
  it.each([
    ['订单号:6921000000000001 运费多少', '6921000000000001'],
    ['订单号：６９２１０００００００００００２', '6921000000000002'],
    ['我的单号是 6921 0000 0000 0003 还没发货', '6921000000000003'],
    ['订单 No. 6921-0000-0000-0004', '6921000000000004'],
    ['6921000000000005', '6921000000000005'],
    ['order id #692100000006', '692100000006'],
  ])('reads the order number in "%s"', (text, orderId) => {
    expect(extractSlots(text).orderId).toBe(orderId);
  });

  it('takes a mobile number as the phone, not as an order number', () => {
    expect(extractSlots('手机号13812345678换绑不了')).toEqual({ phone: '13812345678' });
    expect(extractSlots('换成 138-1234-5678 这个号')).toEqual({ phone: '13812345678' });
  });

  it('reads amounts in yuan and the product bought', () => {
    expect(extractSlots('买的面霜45元能包邮吗')).toEqual({ amount: '45', product: '面霜' });
    expect(extractSlots('付了￥59.90还收运费')).toEqual({ amount: '59.90' });
    expect(extractSlots('我买的耳机还没到')).toEqual({ product: '耳机' });
  });

  it('finds nothing in a message without slot values', () => {
    expect(extractSlots('运费多少')).toEqual({});
    expect(extractSlots('视频播放量只有100多')).toEqual({});
  });

  it('remembers the turn a value came from and keeps it until the user gives a different one', () => {
    let slots = mergeSlots({}, '订单号 6921000000000001', 2);
    slots = mergeSlots(slots, '能包邮吗', 3);
    expect(slots.orderId).toEqual({ value: '6921000000000001', turn: 2 });
    slots = mergeSlots(slots, '订单号 6921000000000001 还有这个', 4);
    expect(slots.orderId).toEqual({ value: '6921000000000001', turn: 2 });
    slots = mergeSlots(slots, '不对，是 6921000000000009', 5);
    expect(slots.orderId).toEqual({ value: '6921000000000009', turn: 5 });
  });
});
