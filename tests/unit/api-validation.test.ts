import { describe, it, expect } from 'vitest';
import { imageBytes, inboundSchema } from '../../server/validation';
import { RateLimiter } from '../../server/rate-limit';

const png = (bytes: number) => `data:image/png;base64,${Buffer.alloc(bytes, 7).toString('base64')}`;

describe('inbound message body', () => {
  const valid = {
    userId: 'user_01-A',
    text: '我的快递到哪了',
    dtmf: '12#*',
    image: png(10),
    messageId: 'msg-1:retry.2',
    conversationId: '123456789012345678',
  };

  it('accepts a complete valid body', () => {
    expect(inboundSchema.safeParse(valid)).toMatchObject({ success: true, data: valid });
  });

  it('accepts a body with only a user id and text', () => {
    expect(inboundSchema.safeParse({ userId: 'u', text: '你好' }).success).toBe(true);
  });

  it('accepts a jpeg image', () => {
    const jpeg = `data:image/jpeg;base64,${Buffer.from('jpeg bytes').toString('base64')}`;
    expect(inboundSchema.safeParse({ userId: 'u', image: jpeg }).success).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['with a space', 'user 1'],
    ['with Chinese characters', '用户1'],
    ['with a slash', 'a/b'],
    ['65 characters long', 'a'.repeat(65)],
  ])('rejects a user id that is %s', (_, userId) => {
    expect(inboundSchema.safeParse({ ...valid, userId }).success).toBe(false);
  });

  it('accepts a user id of exactly 64 characters', () => {
    expect(inboundSchema.safeParse({ ...valid, userId: 'a'.repeat(64) }).success).toBe(true);
  });

  it('rejects unknown extra fields', () => {
    const result = inboundSchema.safeParse({ ...valid, admin: true });
    expect(result.success).toBe(false);
  });

  it('rejects a message that names nobody, and takes a caller number or sender address instead of a user id', () => {
    const { userId: _, ...rest } = valid;
    expect(inboundSchema.safeParse(rest).success).toBe(false);
    expect(inboundSchema.safeParse({ ...rest, callerId: '+86 138-0013-8000' })).toMatchObject({ success: true, data: { callerId: '13800138000' } });
    expect(inboundSchema.safeParse({ ...rest, from: 'Xiao.Lin@Example.com' })).toMatchObject({ success: true, data: { from: 'xiao.lin@example.com' } });
    expect(inboundSchema.safeParse({ ...rest, callerId: 'call me' }).success).toBe(false);
    expect(inboundSchema.safeParse({ ...rest, from: 'not-an-address' }).success).toBe(false);
  });

  it.each([
    ['letters', '12a'],
    ['empty', ''],
    ['a space', '1 2'],
    ['33 keys', '1'.repeat(33)],
  ])('rejects dtmf with %s', (_, dtmf) => {
    expect(inboundSchema.safeParse({ ...valid, dtmf }).success).toBe(false);
  });

  it.each([
    ['a gif', `data:image/gif;base64,${Buffer.from('gif').toString('base64')}`],
    ['not a data URL', 'https://example.com/a.png'],
    ['not base64', 'data:image/png;base64,@@@@'],
    ['without the base64 marker', 'data:image/png,AAAA'],
    ['without any data', 'data:image/png;base64,'],
    ['an svg', `data:image/svg+xml;base64,${Buffer.from('<svg/>').toString('base64')}`],
  ])('rejects an image that is %s', (_, image) => {
    expect(inboundSchema.safeParse({ ...valid, image }).success).toBe(false);
  });

  it('rejects a conversation id that is not a decimal id', () => {
    expect(inboundSchema.safeParse({ ...valid, conversationId: 'abc' }).success).toBe(false);
    expect(inboundSchema.safeParse({ ...valid, conversationId: '1'.repeat(21) }).success).toBe(false);
  });
});

describe('image size', () => {
  it.each([1, 2, 3, 4, 5, 100, 1001, 5 * 1024 * 1024])('computes the decoded size of a %i byte image', (n) => {
    expect(imageBytes(png(n))).toBe(n);
  });
});

describe('rate limiter', () => {
  it('allows the limit of calls per window, then asks the caller to wait', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(3, 10_000, () => now);
    expect([limiter.take('u1'), limiter.take('u1'), limiter.take('u1')]).toEqual([0, 0, 0]);
    now += 2_000;
    const wait = limiter.take('u1');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBe(8); // seconds until the window ends
  });

  it('asks for at least one second even at the very end of the window', () => {
    let now = 0;
    const limiter = new RateLimiter(1, 10_000, () => now);
    limiter.take('u1');
    now = 9_999;
    expect(limiter.take('u1')).toBe(1);
  });

  it('allows calls again once the window has passed', () => {
    let now = 50_000;
    const limiter = new RateLimiter(2, 10_000, () => now);
    limiter.take('u1');
    limiter.take('u1');
    expect(limiter.take('u1')).toBeGreaterThan(0);
    now += 10_000;
    expect(limiter.take('u1')).toBe(0);
    expect(limiter.take('u1')).toBe(0);
    expect(limiter.take('u1')).toBeGreaterThan(0);
  });

  it('counts each user separately', () => {
    const limiter = new RateLimiter(1, 10_000, () => 0);
    expect(limiter.take('u1')).toBe(0);
    expect(limiter.take('u1')).toBeGreaterThan(0);
    expect(limiter.take('u2')).toBe(0);
  });

  it('does not count refused calls against the next window', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 1_000, () => now);
    limiter.take('u1');
    limiter.take('u1');
    for (let i = 0; i < 50; i++) limiter.take('u1'); // a flood of refused calls
    now = 1_000;
    expect(limiter.take('u1')).toBe(0);
    expect(limiter.take('u1')).toBe(0);
  });
});
