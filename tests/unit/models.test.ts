import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEFAULT_FEATURIZER, Featurizer, fnv1a32, normalizeText, type SparseVector } from '../../models/featurize';
import { mulberry32 } from '../../models/random';
import { trainNetwork, type LabelledVector, type TrainOptions } from '../../models/optimizer';
import { trainTask, withEmbedding } from '../../models/train-task';
import { SentenceEncoder } from '../../models/encoder/encoder';
import { NGRAM_PREFIX } from '../../models/model-format';
import { buildOnnxModel, encodeOnnxModel, networkFromOnnx, saveArtifacts } from '../../models/onnx-export';
import { OnnxClassifier, OnnxClassifierLoadError, packBatch } from '../../models/classifier';
import { stratifiedSplit, trainTestSplit, type Example } from '../../models/data';
import { leaveOneBatchOut } from '../../models/batch-validation';
import { forwardSparse, type Network } from '../../models/network';
import { applyTemperature } from '../../models/calibration';

const ARTIFACTS = path.join(__dirname, '..', '..', 'models', 'artifacts');

/** A small synthetic labelled set: each class has its own "topic" characters plus shared filler. */
function syntheticExamples(seed: number, perClass = 30): Example[] {
  const rand = mulberry32(seed);
  const topics: Record<string, string[]> = {
    login: ['登录', '验证码', '密码', '登不上'],
    refund: ['退款', '退货', '售后', '退钱'],
    live: ['直播', '开播', '主播', '断播'],
    oos: ['天气', '股票', '菜谱', '作业'],
  };
  const filler = ['怎么办', '请问', '一直', '为什么', '帮我看看', '急'];
  const out: Example[] = [];
  for (const [label, words] of Object.entries(topics)) {
    for (let i = 0; i < perClass; i++) {
      const w1 = words[Math.floor(rand() * words.length)];
      const w2 = words[Math.floor(rand() * words.length)];
      const f = filler[Math.floor(rand() * filler.length)];
      out.push({ text: `${f}${w1}${i % 3 === 0 ? ' ' : ''}${w2}${i}`, label });
    }
  }
  return out;
}

function vectors(examples: Example[], featurizer: Featurizer, labels: string[]): LabelledVector[] {
  return examples.map((e) => ({ x: featurizer.featurize(e.text), y: labels.indexOf(e.label) }));
}

const SMALL_FEATURIZER = { ...DEFAULT_FEATURIZER, dim: 1 << 10, lexicon: null, words: 'off' as const };
const SMALL_OPTIONS: TrainOptions = {
  hidden: 0,
  epochs: 5,
  batchSize: 8,
  lr: 0.05,
  l2: 1e-5,
  seed: 42,
  classWeighting: 'balanced',
  oosWeight: 2,
  inputDropout: 0,
};

describe('featurizer', () => {
  const f = new Featurizer();

  it('FNV-1a matches the reference values', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('hashes to stable buckets (a change here means retraining the models)', () => {
    expect(fnv1a32('c2:登录')).toBe(0xc9e10f2e);
    expect(fnv1a32('w:验证码')).toBe(0x13aa230e);
    expect(fnv1a32('c2:登录') & (DEFAULT_FEATURIZER.dim - 1)).toBe(3886);
  });

  it('normalises full-width to half-width, case and whitespace', () => {
    expect(normalizeText('ＤＯＵ＋　投了  没效果！')).toBe('dou+ 投了 没效果!');
    const a = f.featurize('ＤＯＵ＋投了没效果，能退吗？ＡＰＰ');
    const b = f.featurize('dou+投了没效果,能退吗?app');
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(f.tokens('  Ｈｅｌｌｏ  ')).toEqual(f.tokens('hello'));
  });

  it('collapses long digit runs so order numbers do not matter', () => {
    const a = f.featurize('订单 202406110001 还没发货');
    const b = f.featurize('订单 998877665544 还没发货');
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(f.tokens('订单 202406110001').some((t) => t === 'w:<num>')).toBe(true);
  });

  it('is deterministic, sorted, unique and L2-normalised', () => {
    const text = '验证码收不到登录不了 急急急';
    const a = f.featurize(text);
    const b = new Featurizer().featurize(text);
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    for (let i = 1; i < a.indices.length; i++) expect(a.indices[i]).toBeGreaterThan(a.indices[i - 1]);
    expect(a.indices.every((i) => i >= 0 && i < f.dim)).toBe(true);
    const norm = Math.sqrt(a.values.reduce((s, v) => s + v * v, 0));
    expect(norm).toBeCloseTo(1, 6);
    expect(f.featurize('').indices.length).toBe(0);
  });

  it('adds domain-lexicon concept tokens and rejects unknown settings', () => {
    expect(f.tokens('能撤单吗')).toContain('k:cancel');
    expect(() => new Featurizer({ dim: 1000 })).toThrow(/power of two/);
    expect(() => new Featurizer({ version: 'other' })).toThrow(/not supported/);
    expect(() => new Featurizer({ lexicon: 'deadbeefdeadbeef' })).toThrow(/lexicon/);
  });
});

describe('data splits', () => {
  it('uses the split field when present, else a seeded stratified 10% hold-out', () => {
    const withSplit: Example[] = [
      { text: 'a', label: 'x', split: 'train' },
      { text: 'b', label: 'x', split: 'test' },
    ];
    expect(trainTestSplit(withSplit, 1).test.map((e) => e.text)).toEqual(['b']);
    const ex = syntheticExamples(1);
    const s1 = trainTestSplit(ex, 7);
    const s2 = trainTestSplit(ex, 7);
    expect(s1.splitSource).toBe('seeded');
    expect(s1.test.map((e) => e.text)).toEqual(s2.test.map((e) => e.text));
    expect(s1.test.length).toBe(12); // 3 of 30 per label
    const { heldOut } = stratifiedSplit(ex, 0.1, 7);
    expect(new Set(heldOut.map((e) => e.label)).size).toBe(4);
  });
});

describe('training', () => {
  const featurizer = new Featurizer(SMALL_FEATURIZER);
  const examples = syntheticExamples(3);
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  const data = vectors(examples, featurizer, labels);

  it('is reproducible: same seed → bit-identical weights (logistic regression and MLP)', () => {
    for (const hidden of [0, 8]) {
      const opts = { ...SMALL_OPTIONS, hidden, inputDropout: hidden ? 0.2 : 0 };
      const a = trainNetwork(data, labels, featurizer.dim, opts);
      const b = trainNetwork(data, labels, featurizer.dim, opts);
      expect(a.layers.length).toBe(hidden ? 2 : 1);
      a.layers.forEach((layer, i) => {
        expect(Buffer.from(layer.W.buffer).equals(Buffer.from(b.layers[i].W.buffer))).toBe(true);
        expect(Buffer.from(layer.b.buffer).equals(Buffer.from(b.layers[i].b.buffer))).toBe(true);
      });
      const c = trainNetwork(data, labels, featurizer.dim, { ...opts, seed: 43 });
      expect(Buffer.from(c.layers[0].W.buffer).equals(Buffer.from(a.layers[0].W.buffer))).toBe(false);
    }
  });

  it('learns the synthetic task and chooses an oos threshold on train-only validation', () => {
    const model = trainTask({ examples, files: [] }, {
      task: 'intent',
      featurizer: SMALL_FEATURIZER,
      options: SMALL_OPTIONS,
      folds: 3,
      novelMaxSimilarity: 0.3,
      reportTest: true,
    });
    expect(model.labels).toEqual(labels);
    expect(model.threshold).toBeGreaterThanOrEqual(0);
    expect(model.threshold).toBeLessThan(1);
    expect(model.metrics.validation.all.report.accuracy).toBeGreaterThan(0.9);
    expect(model.metrics.test?.report.accuracy).toBeGreaterThan(0.9);
  });
});

describe('leave-one-batch-out validation', () => {
  it('scores each batch with a model trained on the other batches only', () => {
    const batches = new Map([
      ['a', syntheticExamples(11, 10)],
      ['b', syntheticExamples(12, 10)],
      ['c', syntheticExamples(13, 10)],
    ]);
    const settings = { featurizer: SMALL_FEATURIZER, options: SMALL_OPTIONS };
    const results = leaveOneBatchOut(batches, settings, 0.3);
    expect(results.map((r) => [r.heldOut, r.n])).toEqual([['a', 40], ['b', 40], ['c', 40]]);
    for (const r of results) expect(r.accuracyArgmax).toBeGreaterThan(0.9);
    // A batch whose labels were never seen elsewhere cannot be learnt from the other batches.
    const unseen = new Map([...batches, ['d', syntheticExamples(14, 10).map((e) => ({ ...e, label: `${e.label}-new` }))]]);
    expect(leaveOneBatchOut(unseen, settings, 0.3).find((r) => r.heldOut === 'd')!.accuracyArgmax).toBe(0);
  });
});

describe('ONNX export round trip', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'models-test-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function ortProbs(bytes: Uint8Array, vectors: SparseVector[]): Promise<Float32Array> {
    const session = await ort.InferenceSession.create(bytes);
    const n = vectors.length;
    const { indices, values, width } = packBatch(vectors);
    try {
      const out = await session.run({ indices: new ort.Tensor('int64', indices, [n, width]), values: new ort.Tensor('float32', values, [n, width]) });
      expect(out.probabilities.dims[0]).toBe(n);
      return out.probabilities.data as Float32Array;
    } finally {
      await session.release();
    }
  }

  it('onnxruntime matches the TypeScript forward pass within 1e-5 (MLP with Relu, batch of texts)', async () => {
    const featurizer = new Featurizer(SMALL_FEATURIZER);
    const examples = syntheticExamples(5);
    const labels = [...new Set(examples.map((e) => e.label))].sort();
    const net: Network = trainNetwork(vectors(examples, featurizer, labels), labels, featurizer.dim, { ...SMALL_OPTIONS, hidden: 16 });
    const bytes = encodeOnnxModel(buildOnnxModel(net, { graphName: 'test' }));
    const texts = ['登录不上 验证码', '我要退款', '直播断了', '明天天气', '', '🙂🙂 12345678'];
    const rows = texts.map((t) => featurizer.featurize(t)); // different lengths: the batch is padded
    const probs = await ortProbs(bytes, rows);
    const C = labels.length;
    texts.forEach((_, i) => {
      const ts = forwardSparse(net, rows[i]);
      for (let c = 0; c < C; c++) expect(Math.abs(probs[i * C + c] - ts[c])).toBeLessThan(1e-5);
    });
    // The weights read back from the file are the trained weights.
    const back = networkFromOnnx(bytes);
    expect(back.layers.map((l) => [l.inDim, l.outDim, l.relu])).toEqual(net.layers.map((l) => [l.inDim, l.outDim, l.relu]));
    expect(Array.from(back.layers[0].W)).toEqual(Array.from(net.layers[0].W));
    expect(Array.from(back.layers[1].W)).toEqual(Array.from(net.layers[1].W));
  });

  it('the committed intent and emotion graphs match the TypeScript forward pass within 1e-5, both heads (raw and calibrated)', async () => {
    const texts = ['验证码收不到登录不了', '今天股票大涨', '订单 202406110001 什么时候发货', '气死了 退款还没到', '谢谢'];
    const encoder = await SentenceEncoder.load();
    const vectors = await encoder.embed(texts, 'query');
    for (const task of ['intent', 'emotion']) {
      const clf = await OnnxClassifier.load(ARTIFACTS, task);
      const meta = clf.metadata;
      expect(clf.encoderId).toBe(encoder.id);
      try {
        const bytes = readFileSync(path.join(ARTIFACTS, `${task}.onnx`));
        const heads = [
          // The cascade's first stage: n-grams only, its own temperature.
          { net: networkFromOnnx(bytes, NGRAM_PREFIX), embeddings: undefined, temperature: meta.cascade?.ngram.calibration?.temperature ?? 1 },
          // The fused head: n-grams + the weighted embedding.
          { net: networkFromOnnx(bytes), embeddings: vectors, temperature: clf.temperature },
        ];
        for (const head of heads) {
          const viaOrt = await clf.rawProbabilities(texts, head.embeddings);
          const calibrated = await clf.probabilities(texts, head.embeddings);
          texts.forEach((t, i) => {
            const x = clf.featurizer.featurize(t);
            const ts = forwardSparse(head.net, head.embeddings ? withEmbedding(x, head.embeddings[i], clf.dim, meta.encoder!.weight) : x);
            expect(viaOrt[i].length).toBe(clf.labels.length);
            for (let c = 0; c < ts.length; c++) expect(Math.abs(viaOrt[i][c] - ts[c])).toBeLessThan(1e-5);
            // Serving's probabilities are the graph's with the head's temperature (1 for intent).
            const tsCalibrated = applyTemperature(ts, head.temperature);
            for (let c = 0; c < ts.length; c++) expect(Math.abs(calibrated[i][c] - tsCalibrated[c])).toBeLessThan(1e-5);
          });
        }
      } finally {
        await clf.release();
      }
    }
    await encoder.release();
  });

  it('saveArtifacts writes a loadable model whose metadata matches the file', async () => {
    const model = trainTask({ examples: syntheticExamples(9), files: [] }, {
      task: 'intent',
      featurizer: SMALL_FEATURIZER,
      options: SMALL_OPTIONS,
      folds: 2,
      novelMaxSimilarity: 0.3,
      reportTest: false,
    });
    const saved = saveArtifacts(model, dir);
    expect(saved.metadata.onnx.bytes).toBe(readFileSync(saved.onnxPath).length);
    expect(saved.metadata.labels).toEqual(model.labels);
    const clf = await OnnxClassifier.load(dir, 'intent');
    try {
      const p = await clf.predict('请问登录验证码');
      expect(p.label).toBe('login');
      expect(p.scores.length).toBe(4);
      expect(p.scores[0].score).toBeGreaterThanOrEqual(p.scores[1].score);
      const batch = await clf.predictBatch(['我要退货', '直播开播']);
      expect(batch.map((b) => b.label)).toEqual(['refund', 'live']);
    } finally {
      await clf.release();
    }
  });
});

describe('serving', () => {
  it('does not load the exporter or the trainer', () => {
    // Follow the value imports and re-exports (not `import type`, which is erased) from classifier.ts through models/.
    const seen = new Set<string>();
    const visit = (name: string): void => {
      if (seen.has(name)) return;
      seen.add(name);
      const src = readFileSync(path.join(__dirname, '..', '..', 'models', `${name}.ts`), 'utf8');
      for (const m of src.matchAll(/^(?:import|export) (?!type )[^;]*? from '\.\/([\w-]+)';/gm)) visit(m[1]);
    };
    visit('classifier');
    expect(seen).toContain('model-format');
    for (const name of ['onnx-export', 'train-task', 'optimizer']) expect(seen).not.toContain(name);
  });
});

describe('OnnxClassifier refuses bad artifacts', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'models-bad-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function copyArtifacts(): void {
    for (const f of ['emotion.onnx', 'emotion.json']) copyFileSync(path.join(ARTIFACTS, f), path.join(dir, f));
  }

  it('rejects a corrupted .onnx file (sha256 mismatch)', async () => {
    copyArtifacts();
    const file = path.join(dir, 'emotion.onnx');
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(file, bytes);
    const err = await OnnxClassifier.load(dir, 'emotion').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxClassifierLoadError);
    expect((err as Error).message).toMatch(/corrupt or was replaced: sha256 [0-9a-f]{64} does not match/);
  });

  it('rejects a truncated model even when the metadata hash was updated to match', async () => {
    copyArtifacts();
    const file = path.join(dir, 'emotion.onnx');
    const truncated = readFileSync(file).subarray(0, 1000);
    writeFileSync(file, truncated);
    const metaFile = path.join(dir, 'emotion.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    const { createHash } = await import('node:crypto');
    meta.onnx.sha256 = createHash('sha256').update(truncated).digest('hex');
    writeFileSync(metaFile, JSON.stringify(meta));
    await expect(OnnxClassifier.load(dir, 'emotion')).rejects.toThrow(/onnxruntime could not load/);
  });

  it('rejects a missing model file and missing or invalid metadata', async () => {
    copyArtifacts();
    unlinkSync(path.join(dir, 'emotion.onnx'));
    await expect(OnnxClassifier.load(dir, 'emotion')).rejects.toThrow(/model file .*emotion\.onnx is missing/);
    await expect(OnnxClassifier.load(dir, 'nosuchtask')).rejects.toThrow(/metadata file .*nosuchtask\.json is missing/);
    copyArtifacts();
    writeFileSync(path.join(dir, 'emotion.json'), '{"format": "something-else"}');
    await expect(OnnxClassifier.load(dir, 'emotion')).rejects.toThrow(OnnxClassifierLoadError);
  });

  it('rejects a model of the earlier dense-input format with a "retrain" message', async () => {
    copyArtifacts();
    const metaFile = path.join(dir, 'emotion.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    meta.formatVersion = 1;
    writeFileSync(metaFile, JSON.stringify(meta));
    await expect(OnnxClassifier.load(dir, 'emotion')).rejects.toThrow(/format version 2 .*retrain/);
  });

  it('rejects metadata whose label list does not match the graph', async () => {
    copyArtifacts();
    const metaFile = path.join(dir, 'emotion.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    meta.labels = [...meta.labels, 'extra'];
    writeFileSync(metaFile, JSON.stringify(meta));
    await expect(OnnxClassifier.load(dir, 'emotion')).rejects.toThrow(/outputs 5 probabilities but the metadata lists 6 labels/);
  });
});

describe('trained artifacts: clear-cut predictions', () => {
  let intent: OnnxClassifier;
  let emotion: OnnxClassifier;
  beforeAll(async () => {
    intent = await OnnxClassifier.load(ARTIFACTS, 'intent');
    emotion = await OnnxClassifier.load(ARTIFACTS, 'emotion');
  });
  afterAll(async () => {
    await intent?.release();
    await emotion?.release();
  });

  it('has the expected label sets and an oos threshold for intent only', () => {
    expect(intent.labels).toContain('oos');
    expect(intent.labels).toContain('account.login');
    expect(intent.labels.length).toBe(47);
    expect(intent.labels).toEqual(expect.arrayContaining(['meta.will_try', 'meta.self_resolved']));
    expect(intent.threshold).toBeGreaterThanOrEqual(0);
    expect(emotion.labels).toEqual(['angry', 'anxious', 'disappointed', 'neutral', 'positive']);
    expect(emotion.threshold).toBeUndefined();
    // Emotion is calibrated (temperature fitted on train), intent is not.
    expect(intent.temperature).toBe(1);
    expect(intent.metadata.calibration).toBeUndefined();
    expect(emotion.metadata.calibration?.method).toBe('temperature');
    expect(emotion.temperature).toBe(emotion.metadata.calibration?.temperature);
    expect(emotion.temperature).toBeGreaterThan(0);
    expect(emotion.temperature).not.toBe(1);
  });

  it('classifies clear-cut intents', async () => {
    const cases: Array<[string, string]> = [
      ['验证码收不到登录不了', 'account.login'],
      ['今天股票大涨', 'oos'],
      ['明天北京天气怎么样', 'oos'],
      ['我要转人工', 'meta.human'],
      ['我的快递到哪了', 'order.logistics'],
      ['淘宝的订单怎么退款', 'oos'],
      ['嗯嗯 我晚点试下', 'meta.will_try'],
      ['哦 可以了 自己好了', 'meta.self_resolved'],
    ];
    const preds = await intent.predictBatch(cases.map((c) => c[0]));
    expect(preds.map((p) => p.label)).toEqual(cases.map((c) => c[1]));
    for (const p of preds) {
      expect(p.confidence).toBeGreaterThan(0);
      expect(p.confidence).toBeLessThanOrEqual(1);
      expect(p.scores.reduce((s, x) => s + x.score, 0)).toBeCloseTo(1, 4);
    }
  });

  it('classifies clear-cut emotions', async () => {
    expect((await emotion.predict('气死我了 你们什么破服务')).label).toBe('angry');
    expect((await emotion.predict('谢谢')).label).toBe('positive');
  });

  it('reads a long, mostly happy review with one small complaint as positive, and a calm question about complaints as neutral', async () => {
    const happy = await emotion.predict('这次买的耳机音质真的很好，降噪也给力，物流第二天就到了，就是包装盒有点压扁了，不过不影响使用，总体很满意');
    expect(happy.label).toBe('positive');
    expect((await emotion.predict('请问怎么投诉商家')).label).toBe('neutral');
    expect((await emotion.predict('等了半个月才到，打开一看还是坏的，联系客服也没人理，真的太失望了')).label).toBe('disappointed');
    // Scores are the calibrated probabilities, highest first, summing to 1.
    expect(happy.scores.reduce((s, x) => s + x.score, 0)).toBeCloseTo(1, 4);
    expect(happy.confidence).toBe(happy.scores[0].score);
  });
});
