import { describe, it, expect } from 'vitest';
import { Snowflake, snowflakeTime } from '../../common/snowflake';

const T = Date.parse('2026-11-25T08:30:00.123Z');

/** Strictly increasing as 64-bit numbers, not as strings. */
function expectIncreasing(ids: string[]): void {
  for (let i = 1; i < ids.length; i++) {
    if (!(BigInt(ids[i]) > BigInt(ids[i - 1]))) {
      throw new Error(`id #${i} (${ids[i]}) is not greater than id #${i - 1} (${ids[i - 1]})`);
    }
  }
}

const nodeOf = (id: string) => Number((BigInt(id) >> 12n) & 0x3ffn);

describe('snowflake ids', () => {
  it('are unsigned 64-bit decimal strings', () => {
    const gen = new Snowflake(7, () => T);
    for (let i = 0; i < 10; i++) {
      const id = gen.next();
      expect(id).toMatch(/^[1-9]\d{0,19}$/);
      expect(BigInt(id) < 1n << 63n).toBe(true);
    }
  });

  it('strictly increase within a node even for more than 4096 ids in the same millisecond', () => {
    const gen = new Snowflake(3, () => T);
    const ids = Array.from({ length: 10_000 }, () => gen.next());
    expectIncreasing(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 5000)) expect(nodeOf(id)).toBe(3);
  });

  it('keep increasing when the clock moves on after ids were borrowed from the next milliseconds', () => {
    let now = T;
    const gen = new Snowflake(3, () => now);
    const ids = Array.from({ length: 5000 }, () => gen.next());
    now = T + 1;
    ids.push(...Array.from({ length: 10 }, () => gen.next()));
    now = T + 5;
    ids.push(gen.next());
    expectIncreasing(ids);
  });

  it('never go down when the clock steps backwards', () => {
    let now = T;
    const gen = new Snowflake(9, () => now);
    const ids = [gen.next(), gen.next()];
    now = T - 60_000; // NTP correction of a minute
    ids.push(gen.next(), gen.next());
    now = T - 1;
    ids.push(gen.next());
    now = T + 1;
    ids.push(gen.next());
    expectIncreasing(ids);
  });

  it('encode the node id so that two nodes never collide in the same millisecond', () => {
    const a = new Snowflake(1, () => T);
    const b = new Snowflake(1023, () => T);
    const idA = a.next();
    const idB = b.next();
    expect(nodeOf(idA)).toBe(1);
    expect(nodeOf(idB)).toBe(1023);
    expect(idA).not.toBe(idB);
    expect(nodeOf(new Snowflake(0, () => T).next())).toBe(0);
  });

  it('decode back to the time they were created', () => {
    const gen = new Snowflake(42, () => T);
    expect(snowflakeTime(gen.next()).toISOString()).toBe('2026-11-25T08:30:00.123Z');

    const later = new Snowflake(42, () => T + 86_400_000);
    expect(snowflakeTime(later.next()).getTime()).toBe(T + 86_400_000);
  });

  it('order by creation time across nodes', () => {
    const early = new Snowflake(1000, () => T).next();
    const late = new Snowflake(1, () => T + 1).next();
    expect(BigInt(late) > BigInt(early)).toBe(true);
  });

  it.each([-1, 1024, 1.5, Number.NaN])('refuses node id %s', (node) => {
    expect(() => new Snowflake(node)).toThrow(RangeError);
  });
});
