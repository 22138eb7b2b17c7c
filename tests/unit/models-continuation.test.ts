import { describe, expect, it } from 'vitest';
import chart from '../../machines/charts/conversation.chart.json';
import { confidentSibling, continuationFeatures, continuationProbability, fitContinuation } from '../../models/continuation';

const signals = (text: string, model: Record<string, number>, detail = 0) => ({
  text,
  topic: 'pay.minor_refund',
  modelProb: new Map(Object.entries(model)),
  retrieval: new Map<string, number>(),
  detail,
});

describe('continuation model', () => {
  it('computes named features from the signals the understanding step has', () => {
    const f = continuationFeatures(signals('对了 怎么换绑手机', { 'account.change_phone': 0.9, 'pay.minor_refund': 0.05, oos: 0.02, 'meta.thanks': 0.01 }));
    expect(f).toMatchObject({ topicModel: 0.05, otherModel: 0.9, otherSure: 1, oosModel: 0.02, metaModel: 0.01, switchMarker: 1, question: 1 });
    expect(continuationFeatures(signals('要准备啥材料', { oos: 0.7 }, 0.6))).toMatchObject({ topicDetail: 0.6, short: 1, switchMarker: 0 });
  });

  it('learns from examples: a detail match continues, a sure other topic does not', () => {
    const examples = [
      ...Array.from({ length: 40 }, (_, i) => ({ features: continuationFeatures(signals(`要准备啥材料${i}`, { oos: 0.6 }, 0.5 + (i % 5) / 10)), continues: true })),
      ...Array.from({ length: 40 }, (_, i) => ({ features: continuationFeatures(signals(`我登不上去了${i}`, { 'account.login': 0.85 + (i % 5) / 50 })), continues: false })),
    ];
    const w = fitContinuation(examples, { epochs: 500 });
    expect(continuationProbability(w, continuationFeatures(signals('多久能退回来', { oos: 0.5 }, 0.7)))).toBeGreaterThan(0.8);
    expect(continuationProbability(w, continuationFeatures(signals('我的号登不上', { 'account.login': 0.95 })))).toBeLessThan(0.2);
  });

  it('names a confident neighbouring topic of the same group only', () => {
    expect(confidentSibling('order.shipping_fee', new Map([['order.free_shipping', 0.9]]))).toBe('order.free_shipping');
    expect(confidentSibling('order.shipping_fee', new Map([['account.login', 0.95]]))).toBeUndefined();
    expect(confidentSibling('order.shipping_fee', new Map([['order.free_shipping', 0.5]]))).toBeUndefined();
  });

  it('ships fitted weights for every feature in the committed chart', () => {
    const names = Object.keys(continuationFeatures(signals('x', {})));
    expect(Object.keys(chart.params.continuation.weights).sort()).toEqual(names.sort());
  });
});
