import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blendOnDisagreement, buildCascade, cascadeFigures, chooseSkipAbove, needsEncoding } from '../../models/cascade';
import { OnnxClassifier } from '../../models/classifier';
import { embedAll } from '../../models/encoder/embedding-cache';
import { SentenceEncoder } from '../../models/encoder/encoder';
import { DEFAULT_FEATURIZER, Featurizer } from '../../models/featurize';
import { NGRAM_PREFIX } from '../../models/model-format';
import { forwardSparse } from '../../models/network';
import { networkFromOnnx, saveArtifacts } from '../../models/onnx-export';
import { trainTask, withEmbedding, type TrainedModel } from '../../models/train-task';
import type { Example } from '../../models/data';
import { applyTemperature } from '../../models/calibration';

/** Customer questions in three topics plus out-of-scope, worded so that some share few characters with the rest. */
const LINES: Record<string, string[]> = {
  logistics: ['快递到哪了', '我的包裹怎么还没到', '物流三天没更新了', '东西寄出来没有', '什么时候能送到', '查一下运单', '快递一直不动', '派送员联系不上', '物流信息停了', '货到哪里了', '还没收到货', '发货了吗'],
  refund: ['怎么退款', '钱什么时候退回来', '退货流程是什么', '申请售后', '不想要了能退吗', '退款还没到账', '退货地址在哪', '仅退款怎么申请', '商品有问题要退', '售后一直没人处理', '退回的钱到哪了', '想把东西退掉'],
  live: ['怎么开直播', '直播权限开通', '开播需要什么条件', '直播间没人看', '直播被中断了', '连麦怎么弄', '主播怎么申请', '开播入口在哪', '直播画面卡', '直播带货怎么开', '直播间封了', '怎样才能直播'],
  oos: ['今天天气怎么样', '推荐一部电影', '股票能涨吗', '帮我写作业', '红烧肉怎么做', '讲个笑话', '附近有什么好吃的', '明天会下雨吗', '怎么学英语', '足球比赛结果', '给我起个名字', '火车票怎么买'],
};
const examples: Example[] = Object.entries(LINES).flatMap(([label, texts]) => texts.map((text, i) => ({ text, label, split: i % 6 === 5 ? ('test' as const) : ('train' as const) })));
const FEATURIZER = { ...DEFAULT_FEATURIZER, dim: 1 << 10, lexicon: null, words: 'off' as const };
const OPTIONS = { hidden: 0, epochs: 20, batchSize: 8, lr: 0.05, l2: 1e-6, seed: 7, classWeighting: 'balanced' as const, oosWeight: 3, inputDropout: 0 };

describe('fused models: n-grams + sentence embedding, with an n-gram cascade head', () => {
  let encoder: SentenceEncoder;
  let table: Map<string, Float32Array>;
  let fused: TrainedModel;
  let dir: string;
  let clf: OnnxClassifier;

  beforeAll(async () => {
    encoder = await SentenceEncoder.load();
    table = await embedAll(encoder, examples.map((e) => e.text), 'query');
    const config = { task: 'intent' as const, featurizer: FEATURIZER, options: OPTIONS, folds: 2, novelMaxSimilarity: 0.3, reportTest: true };
    const ngram = trainTask({ examples, files: [] }, config);
    const model = trainTask({ examples, files: [] }, { ...config, embedding: { encoder: encoder.id, dim: encoder.dim, weight: 2, of: (t) => table.get(t)! } });
    fused = { ...model, cascade: { network: ngram.network, info: buildCascade(ngram, model) } };
    dir = mkdtempSync(path.join(tmpdir(), 'cs-fused-'));
    saveArtifacts(fused, dir);
    clf = await OnnxClassifier.load(dir, 'intent');
  }, 60_000);
  afterAll(async () => {
    await clf?.release();
    await encoder?.release();
  });

  it('writes a graph with the embedding input and both heads, described in the metadata', () => {
    const meta = JSON.parse(readFileSync(path.join(dir, 'intent.json'), 'utf8'));
    expect(meta.onnx.inputs).toEqual(['indices', 'values', 'embedding']);
    expect(meta.onnx.ngramOutput).toBe('ngram_probabilities');
    expect(meta.encoder).toMatchObject({ id: encoder.id, dim: 384, weight: 2, kind: 'query' });
    expect(meta.cascade.skipAbove).toBeGreaterThan(0);
    expect(clf.encoderId).toBe(encoder.id);
  });

  it('the fused ONNX graph computes the TypeScript forward pass, for both heads', async () => {
    const featurizer = new Featurizer(FEATURIZER);
    const texts = ['包裹还没到', '钱退到哪里了', '想开个直播', '今天吃什么'];
    const vectors = await encoder.embed(texts, 'query');
    const fusedOnnx = await clf.rawProbabilities(texts, vectors);
    const ngramOnnx = await clf.rawProbabilities(texts);
    texts.forEach((t, i) => {
      const x = featurizer.featurize(t);
      const tsFused = forwardSparse(fused.network, withEmbedding(x, vectors[i], FEATURIZER.dim, 2));
      const tsNgram = forwardSparse(fused.cascade!.network, x);
      for (let c = 0; c < tsFused.length; c++) {
        expect(Math.abs(fusedOnnx[i][c] - tsFused[c])).toBeLessThan(1e-5);
        expect(Math.abs(ngramOnnx[i][c] - tsNgram[c])).toBeLessThan(1e-5);
      }
    });
    // The weights read back out of the file are the trained ones.
    const bytes = readFileSync(path.join(dir, 'intent.onnx'));
    expect(Array.from(networkFromOnnx(bytes).layers[0].W)).toEqual(Array.from(fused.network.layers[0].W));
    expect(Array.from(networkFromOnnx(bytes, NGRAM_PREFIX).layers[0].W)).toEqual(Array.from(fused.cascade!.network.layers[0].W));
  });

  it('answers with the n-gram head without an embedding and says whether that answer settles the message', async () => {
    const skipAbove = fused.cascade!.info.skipAbove;
    for (const text of ['快递到哪了', '这个东西嘛']) {
      const p = await clf.predict(text);
      expect(clf.settles(p)).toBe(p.confidence >= skipAbove);
      const [v] = await encoder.embed([text], 'query');
      const withEmbedding = await clf.predict(text, v);
      expect(withEmbedding.scores).toHaveLength(4);
    }
  });

  it('an n-gram model settles every message and refuses an embedding', async () => {
    const small = trainTask({ examples, files: [] }, { task: 'intent', featurizer: FEATURIZER, options: OPTIONS, folds: 2, novelMaxSimilarity: 0.3, reportTest: false });
    const d = mkdtempSync(path.join(tmpdir(), 'cs-ngram-'));
    saveArtifacts(small, d);
    const ngram = await OnnxClassifier.load(d, 'intent');
    try {
      const p = await ngram.predict('这个东西嘛');
      expect(ngram.settles(p)).toBe(true);
      expect(ngram.encoderId).toBeUndefined();
      await expect(ngram.predict('快递', new Float32Array(384))).rejects.toThrow(/takes no sentence embedding/);
    } finally {
      await ngram.release();
    }
  });
});

describe('cascade choice', () => {
  const labels = ['a', 'b'];
  const heads = { ngram: { threshold: undefined, temperature: 1 }, fused: { threshold: undefined, temperature: 1 } };
  // n-gram head: sure and right on the first two lines, unsure and wrong on the last two; fused head right on all.
  const ngram = [[0.95, 0.05], [0.1, 0.9], [0.55, 0.45], [0.6, 0.4]];
  const fusedProbs = [[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.2, 0.8]];
  const gold = ['a', 'b', 'b', 'b'];

  it('skips the encoder only where the n-gram head is confident enough to lose nothing', () => {
    const { skipAbove, figures } = chooseSkipAbove(ngram, fusedProbs, gold, labels, heads);
    expect(skipAbove).toBe(0.61);
    expect(figures).toEqual({ lines: 4, skipShare: 0.5, accuracy: { ngram: 0.5, fused: 1, cascade: 1 } });
  });

  it('reports what a lower confidence would cost', () => {
    expect(cascadeFigures(ngram, fusedProbs, gold, labels, heads, 0.5).accuracy.cascade).toBe(0.5);
    expect(cascadeFigures(ngram, fusedProbs, gold, labels, heads, 1.01)).toMatchObject({ skipShare: 0, accuracy: { cascade: 1 } });
  });

  it('decides with each head’s own temperature', () => {
    const sharp = { ...heads, ngram: { threshold: undefined, temperature: 0.25 } };
    // Sharpened, the wrong 0.6 line looks confident: the cascade must then skip less often to stay right.
    const sharpened = Array.from(applyTemperature([0.6, 0.4], 0.25));
    expect(sharpened[0]).toBeGreaterThan(0.8);
    expect(chooseSkipAbove(ngram, fusedProbs, gold, labels, sharp).skipAbove).toBeGreaterThan(0.8);
  });
});

describe('the intent reading of an encoded message', () => {
  const labels = ['a', 'b', 'c'];
  const clf = { labels, toPrediction: (p: ArrayLike<number>) => ({ label: labels[Array.from(p).indexOf(Math.max(...Array.from(p)))], confidence: Math.max(...Array.from(p)), scores: labels.map((label, i) => ({ label, score: p[i] })) }) };
  const pred = (p: number[]) => clf.toPrediction(p);

  it('is the fused head when both heads agree', () => {
    const fused = pred([0.8, 0.1, 0.1]);
    expect(blendOnDisagreement(clf, pred([0.5, 0.3, 0.2]), fused)).toBe(fused);
  });

  it('is the average of the heads when they disagree, keeping the uncertainty', () => {
    const blended = blendOnDisagreement(clf, pred([0.2, 0.45, 0.35]), pred([0.62, 0.2, 0.18]));
    expect(blended.label).toBe('a');
    expect(blended.confidence).toBeCloseTo(0.41, 5);
    expect(blended.scores.map((s) => s.score)).toEqual([0.41, 0.325, 0.265].map((x) => expect.closeTo(x, 5)));
  });
});

describe('when a message is encoded', () => {
  const head = (sure: boolean) => ({ settles: () => sure });
  const reading = (label: string) => ({ label, confidence: 0.5, scores: [] });

  it('when the intent head is unsure, whatever the emotion', () => {
    expect(needsEncoding({ model: head(false), reading: reading('order.logistics') }, { model: head(true), reading: reading('neutral') })).toBe(true);
  });

  it('when the emotion head is unsure of a negative reading only', () => {
    const sureIntent = { model: head(true), reading: reading('order.logistics') };
    expect(needsEncoding(sureIntent, { model: head(false), reading: reading('angry') })).toBe(true);
    expect(needsEncoding(sureIntent, { model: head(false), reading: reading('anxious') })).toBe(true);
    expect(needsEncoding(sureIntent, { model: head(false), reading: reading('neutral') })).toBe(false);
    expect(needsEncoding(sureIntent, { model: head(true), reading: reading('angry') })).toBe(false);
  });
});
