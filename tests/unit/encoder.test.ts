import { mkdtempSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderUnavailable, SentenceEncoder } from '../../models/encoder/encoder';
import { halfToFloat } from '../../models/encoder/e5-file';

/** Vectors of the package's own C engine for fixed texts (scripts/encoder-reference.py). */
const reference: { cases: Array<{ text: string; kind: 'query' | 'passage'; tokenCount: number; vector: number[] }> } = JSON.parse(
  readFileSync(path.join(__dirname, '../fixtures/encoder-reference.json'), 'utf8'),
);

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('sentence encoder (multilingual-e5-small on onnxruntime)', () => {
  let encoder: SentenceEncoder;
  beforeAll(async () => {
    encoder = await SentenceEncoder.load();
  });
  afterAll(() => encoder.release());

  it('gives the reference vectors of the package’s own engine for fixed inputs', async () => {
    for (const c of reference.cases) {
      const [v] = await encoder.embed([c.text], c.kind);
      expect(v).toHaveLength(384);
      // The C engine quantises activations its own way; the two implementations agree to a cosine of 0.9999.
      expect(dot(v, c.vector), JSON.stringify(c.text)).toBeGreaterThan(0.9995);
      const maxDiff = Math.max(...Array.from(v, (x, i) => Math.abs(x - c.vector[i])));
      expect(maxDiff, JSON.stringify(c.text)).toBeLessThan(0.01);
    }
  });

  it('counts the same pieces as the reference engine, prefix and <s></s> included', () => {
    for (const c of reference.cases) expect(encoder.tokenCount(c.text, c.kind), JSON.stringify(c.text)).toBe(c.tokenCount);
  });

  it('tokenises mixed Chinese, English, digits, emoji and full-width text', () => {
    expect(encoder.pieces('订单号 DY20240611123 still not shipped!!')).toEqual(['▁', '订单', '号', '▁', 'DY', '202', '406', '11', '123', '▁still', '▁not', '▁shi', 'pped', '!!']);
    expect(encoder.pieces('太棒了😀👍')).toEqual(['▁', '太', '棒', '了', '😀', '👍']);
    // Full-width letters, digits and punctuation are normalised to their half-width forms.
    expect(encoder.pieces('ＡＢＣ１２３，你好！')).toEqual(['▁ABC', '123', ',', '你好', '!']);
    // Tabs and newlines become spaces, runs of spaces one metaspace.
    expect(encoder.pieces('你好   我想\t问一下\n退货的事')).toEqual(['▁', '你好', '▁', '我想', '▁', '问', '一下', '▁', '退', '货', '的事']);
    // Control pieces are never matched in user text; a character no piece covers is <unk>.
    expect(encoder.pieces('<s>hi</s>')).not.toContain('<s>');
    expect(encoder.pieces('𠮷野家')).toEqual(['▁', '<unk>', '野', '家']);
  });

  it('embeds a batch exactly as one text at a time, and similar questions closer than unrelated ones', async () => {
    const texts = ['快递到哪了', '我的包裹怎么还没到', '直播怎么开通'];
    const batch = await encoder.embed(texts, 'query');
    for (let i = 0; i < texts.length; i++) {
      const [single] = await encoder.embed([texts[i]], 'query');
      expect(dot(single, batch[i])).toBeCloseTo(1, 5);
    }
    expect(dot(batch[0], batch[1])).toBeGreaterThan(dot(batch[0], batch[2]));
  });

  it('embeds a message longer than 512 pieces in windows instead of cutting it', async () => {
    const long = '我买的东西一直没有发货，'.repeat(80);
    expect(encoder.tokenCount(long, 'query')).toBeGreaterThan(512);
    const [v] = await encoder.embed([long], 'query');
    expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 5);
    const [short] = await encoder.embed(['我买的东西一直没有发货，'], 'query');
    expect(dot(v, short)).toBeGreaterThan(0.85);
  });

  it('refuses to load without the converted model, saying how to set it up', async () => {
    const err = await SentenceEncoder.load({ dir: mkdtempSync(path.join(tmpdir(), 'cs-no-encoder-')) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EncoderUnavailable);
    expect(String(err)).toMatch(/scripts\/setup\.sh/);
  });

  it('decodes float16 scales', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x0001)).toBeCloseTo(5.96e-8, 10);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
  });
});
