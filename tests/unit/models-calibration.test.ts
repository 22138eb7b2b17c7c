import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { applyTemperature, fitTemperature, meanNll, reliability, reliabilityOf } from '../../models/calibration';
import { OnnxClassifier, OnnxClassifierLoadError } from '../../models/classifier';
import { DEFAULT_FEATURIZER } from '../../models/featurize';
import { falseAlarmReport } from '../../models/metrics';
import { emotionCalibration } from '../../models/evaluate';
import { saveArtifacts } from '../../models/onnx-export';
import { mulberry32 } from '../../models/random';
import { DEFAULT_TRAIN_OPTIONS, trainTask } from '../../models/train-task';
import type { Example } from '../../models/data';
import { SentenceEncoder } from '../../models/encoder/encoder';

const ARTIFACTS = path.join(__dirname, '..', '..', 'models', 'artifacts');
const sum = (p: ArrayLike<number>) => Array.from(p).reduce((s, x) => s + x, 0);
const argmax = (p: ArrayLike<number>) => Array.from(p).indexOf(Math.max(...Array.from(p)));

describe('temperature scaling', () => {
  const p = [0.5, 0.25, 0.25];

  it('T > 1 softens, T < 1 sharpens, T = 1 changes nothing; rows sum to 1 and the argmax stays', () => {
    // softmax(log p / 2) = √p / Σ√p; softmax(log p / 0.5) = p² / Σp².
    const soft = applyTemperature(p, 2);
    const sharp = applyTemperature(p, 0.5);
    expect(Array.from(soft).map((x) => +x.toFixed(4))).toEqual([0.4142, 0.2929, 0.2929]);
    expect(Array.from(sharp).map((x) => +x.toFixed(4))).toEqual([0.6667, 0.1667, 0.1667]);
    expect(Array.from(applyTemperature(p, 1))).toEqual(p);
    const rand = mulberry32(5);
    for (let row = 0; row < 50; row++) {
      const raw = Array.from({ length: 5 }, () => Math.exp(4 * rand()));
      const probs = raw.map((x) => x / sum(raw));
      for (const t of [0.3, 0.7, 1.5, 4]) {
        const q = applyTemperature(probs, t);
        expect(sum(q)).toBeCloseTo(1, 12);
        expect(argmax(q)).toBe(argmax(probs));
        if (t > 1) expect(Math.max(...q)).toBeLessThan(Math.max(...probs));
        else expect(Math.max(...q)).toBeGreaterThan(Math.max(...probs));
      }
    }
  });

  it('keeps a zero probability at zero and refuses a temperature that is not positive and finite', () => {
    expect(Array.from(applyTemperature([0, 0.2, 0.8], 3))[0]).toBe(0);
    expect(sum(applyTemperature([0, 0.2, 0.8], 3))).toBeCloseTo(1, 12);
    for (const t of [0, -1, Infinity, NaN]) expect(() => applyTemperature(p, t)).toThrow(/positive finite/);
  });

  it('fitTemperature recovers the temperature of an over- or under-confident model', () => {
    // True class probabilities softmax(z); the "model" reports softmax(z · k): k = 3 is over-confident (T ≈ 3
    // undoes it), k = 1/2 under-confident (T ≈ 0.5).
    const rand = mulberry32(11);
    const rows = Array.from({ length: 4000 }, () => Array.from({ length: 4 }, () => 2 * (rand() - 0.5) * 3));
    const softmax = (z: number[]) => {
      const m = Math.max(...z);
      const e = z.map((x) => Math.exp(x - m));
      return e.map((x) => x / sum(e));
    };
    const gold = rows.map((z) => {
      const t = softmax(z);
      let u = rand();
      for (let c = 0; c < t.length; c++) if ((u -= t[c]) <= 0) return c;
      return t.length - 1;
    });
    for (const k of [3, 0.5]) {
      const probs = rows.map((z) => softmax(z.map((x) => x * k)));
      const fit = fitTemperature(probs, gold);
      expect(fit.temperature).toBeGreaterThan(k * 0.85);
      expect(fit.temperature).toBeLessThan(k * 1.15);
      expect(fit.nllAfter).toBeLessThan(fit.nllBefore);
      expect(fit.nllBefore).toBeCloseTo(meanNll(probs, gold, 1), 12);
      // The calibrated probabilities are better calibrated.
      expect(reliabilityOf(probs.map((q) => applyTemperature(q, fit.temperature)), gold).ece).toBeLessThan(reliabilityOf(probs, gold).ece);
    }
  });
});

describe('reliability table and expected calibration error', () => {
  it('computes the bins and the ECE of a hand-made example', () => {
    const confidence = [0.95, 0.95, 0.85, 0.55, 0.55, 0.55, 0.55, 0.3, 1];
    const correct = [true, true, false, true, true, false, false, false, true];
    const r = reliability(confidence, correct);
    expect(r.n).toBe(9);
    expect(r.bins.length).toBe(10);
    const filled = r.bins.filter((b) => b.count > 0).map((b) => [b.lo, b.count, +b.meanConfidence.toFixed(4), +b.accuracy.toFixed(4)]);
    expect(filled).toEqual([
      [0.3, 1, 0.3, 0],
      [0.5, 4, 0.55, 0.5],
      [0.8, 1, 0.85, 0],
      [0.9, 3, 0.9667, 1], // 1.0 falls in the last bin
    ]);
    expect(Number.isNaN(r.bins[0].meanConfidence)).toBe(true);
    // Σ count/n · |accuracy − confidence| = (0.3 + 4·0.05 + 0.85 + 3·(1 − 0.9667)) / 9
    expect(r.ece).toBeCloseTo((0.3 + 0.2 + 0.85 + 0.1) / 9, 10);
  });

  it('a perfectly calibrated table has ECE 0; reliabilityOf takes the top probability as the confidence', () => {
    // Four lines at confidence 0.75, three of them right.
    const probs = [
      [0.75, 0.25],
      [0.75, 0.25],
      [0.25, 0.75],
      [0.25, 0.75],
    ];
    const r = reliabilityOf(probs, [0, 0, 1, 0]);
    expect(r.bins[7]).toEqual({ lo: 0.7, hi: 0.8, count: 4, meanConfidence: 0.75, accuracy: 0.75 });
    expect(r.ece).toBeCloseTo(0, 12);
  });
});

describe('emotion false alarms', () => {
  it('counts positive/neutral lines read as a negative emotion, at any and at a minimum confidence', () => {
    const gold = ['positive', 'positive', 'neutral', 'neutral', 'angry', 'anxious', 'disappointed', 'angry'];
    const pred = ['disappointed', 'positive', 'anxious', 'neutral', 'angry', 'disappointed', 'positive', 'anxious'];
    const conf = [0.55, 0.9, 0.95, 0.8, 0.99, 0.6, 0.7, 0.4];
    const any = falseAlarmReport(gold, pred, conf);
    expect(any.rate).toBe(0.5);
    expect(any.perLabel).toEqual([
      { label: 'positive', alarms: 1, support: 2, rate: 0.5 },
      { label: 'neutral', alarms: 1, support: 2, rate: 0.5 },
    ]);
    // Read as some negative emotion, not necessarily the right one: 3 of 4.
    expect(any.negativeRecall).toBe(0.75);
    const confident = falseAlarmReport(gold, pred, conf, 0.9);
    expect([confident.alarms, confident.support, confident.rate]).toEqual([1, 4, 0.25]);
    expect(confident.negativeRecall).toBe(0.25);
  });

  it('emotionCalibration reports both tables, with the calibrated probabilities deciding confidence', () => {
    const labels = ['angry', 'anxious', 'disappointed', 'neutral', 'positive'];
    const raw = [
      [0.4, 0.15, 0.15, 0.15, 0.15], // angry, right
      [0.1, 0.1, 0.4, 0.1, 0.3], // disappointed, gold positive: a false alarm
      [0.05, 0.05, 0.05, 0.6, 0.25], // neutral, right
    ];
    const gold = ['angry', 'positive', 'neutral'];
    const r = emotionCalibration(labels, 0.5, raw, gold);
    expect(r.before.ece).toBeCloseTo(reliabilityOf(raw, [0, 4, 3]).ece, 12);
    expect(r.after.ece).toBeCloseTo(reliabilityOf(raw.map((p) => applyTemperature(p, 0.5)), [0, 4, 3]).ece, 12);
    expect([r.falseAlarm.alarms, r.falseAlarm.support]).toEqual([1, 2]);
    // Sharpened (T = 0.5) the false alarm is read with confidence 0.16/(0.16+0.09+0.03) ≈ 0.57.
    const at = (t: number) => r.confident.find((c) => c.minConfidence === t)!;
    expect(at(0.5).alarms).toBe(1);
    expect(at(0.6).alarms).toBe(0);
  });
});

describe('OnnxClassifier applies the calibration temperature of the metadata', () => {
  let dir: string;
  // The committed emotion model is fused: the top-level temperature is its fused head's, used with an embedding.
  let encoder: SentenceEncoder;
  let vectors: Float32Array[];
  const texts = ['气死我了 你们什么破服务', '谢谢 问题解决了', '请问怎么投诉商家', '快点 明天就要用了'];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'models-calibration-'));
    encoder = await SentenceEncoder.load();
    vectors = await encoder.embed(texts, 'query');
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await encoder.release();
  });

  /** The committed emotion model with its metadata edited. */
  function withMetadata(edit: (meta: Record<string, unknown>) => void): void {
    copyFileSync(path.join(ARTIFACTS, 'emotion.onnx'), path.join(dir, 'emotion.onnx'));
    const meta = JSON.parse(readFileSync(path.join(ARTIFACTS, 'emotion.json'), 'utf8'));
    edit(meta);
    writeFileSync(path.join(dir, 'emotion.json'), JSON.stringify(meta));
  }

  it('metadata without a temperature (older files) loads as before: T = 1, probabilities = the graph output', async () => {
    withMetadata((meta) => delete meta.calibration);
    const clf = await OnnxClassifier.load(dir, 'emotion');
    try {
      expect(clf.temperature).toBe(1);
      const raw = await clf.rawProbabilities(texts, vectors);
      const probs = await clf.probabilities(texts, vectors);
      probs.forEach((p, i) => expect(Array.from(p)).toEqual(Array.from(raw[i])));
      const preds = await clf.predictBatch(texts, vectors);
      preds.forEach((pr, i) => expect(pr.confidence).toBe(Math.max(...raw[i])));
    } finally {
      await clf.release();
    }
  });

  it('a temperature sharpens or softens what predict returns, same labels, scores summing to 1', async () => {
    withMetadata((meta) => delete meta.calibration);
    const plain = await OnnxClassifier.load(dir, 'emotion');
    const raw = await plain.rawProbabilities(texts, vectors);
    const plainPreds = await plain.predictBatch(texts, vectors);
    await plain.release();
    for (const temperature of [0.5, 2]) {
      withMetadata((meta) => (meta.calibration = { method: 'temperature', temperature }));
      const clf = await OnnxClassifier.load(dir, 'emotion');
      try {
        expect(clf.temperature).toBe(temperature);
        const preds = await clf.predictBatch(texts, vectors);
        preds.forEach((pr, i) => {
          expect(pr.label).toBe(plainPreds[i].label);
          expect(pr.scores.reduce((s, x) => s + x.score, 0)).toBeCloseTo(1, 5);
          const expected = applyTemperature(raw[i], temperature);
          expect(pr.confidence).toBeCloseTo(Math.max(...expected), 6);
          if (temperature < 1) expect(pr.confidence).toBeGreaterThan(plainPreds[i].confidence);
          else expect(pr.confidence).toBeLessThan(plainPreds[i].confidence);
        });
      } finally {
        await clf.release();
      }
    }
  });

  it('refuses a temperature that is not a positive number', async () => {
    for (const temperature of [0, -1, 'hot']) {
      withMetadata((meta) => (meta.calibration = { method: 'temperature', temperature }));
      const err = await OnnxClassifier.load(dir, 'emotion').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OnnxClassifierLoadError);
      expect((err as Error).message).toMatch(/calibration\.temperature/);
    }
  });
});

describe('the trainer fits the temperature on train only and stores it', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'models-calibration-train-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Three emotions of distinct wording, a "split": "test" line per label. */
  function lines(): Example[] {
    const words: Record<string, string[]> = {
      positive: ['谢谢', '太好了', '满意', '点赞', '开心', '好评'],
      angry: ['气死了', '垃圾', '投诉你们', '骗子', '什么破', '太过分'],
      neutral: ['请问', '怎么设置', '在哪里看', '想了解', '多久到', '能不能'],
    };
    const topics = ['退款', '物流', '直播', '账号', '优惠券', '发票', '客服', '视频'];
    return Object.entries(words).flatMap(([label, ws]) =>
      ws.flatMap((w, i) => topics.map((t, j) => ({ text: j % 2 ? `${t}${w}` : `${w} ${t}的事`, label, split: (i === 0 && j === 0 ? 'test' : 'train') as 'test' | 'train' }))),
    );
  }
  const cfg = {
    task: 'emotion' as const,
    featurizer: { ...DEFAULT_FEATURIZER, dim: 1 << 10, lexicon: null, words: 'off' as const },
    options: { ...DEFAULT_TRAIN_OPTIONS.emotion, epochs: 3 },
    folds: 3,
    novelMaxSimilarity: 0.3,
    reportTest: true,
  };

  it('with calibrate, the metadata has the temperature and serving uses it; without, neither', async () => {
    const calibrated = trainTask({ examples: lines(), files: [] }, { ...cfg, calibrate: true });
    const c = calibrated.calibration!;
    expect(c.method).toBe('temperature');
    expect(c.n).toBe(calibrated.data.train); // every train line is out-of-fold once; no test line
    expect(c.temperature).toBeGreaterThan(0);
    expect(c.nll.after).toBeLessThanOrEqual(c.nll.before);
    expect(calibrated.metrics.test?.ece).toBeDefined();
    const { metadata } = saveArtifacts(calibrated, path.join(dir, 'on'));
    expect(metadata.calibration).toEqual(c);
    const clf = await OnnxClassifier.load(path.join(dir, 'on'), 'emotion');
    try {
      expect(clf.temperature).toBe(c.temperature);
    } finally {
      await clf.release();
    }

    const plain = trainTask({ examples: lines(), files: [] }, cfg);
    expect(plain.calibration).toBeUndefined();
    const saved = saveArtifacts(plain, path.join(dir, 'off'));
    expect('calibration' in saved.metadata).toBe(false);
    // Calibration is decided after the network is trained: the weights are the same either way.
    expect(Buffer.from(plain.network.layers[0].W.buffer).equals(Buffer.from(calibrated.network.layers[0].W.buffer))).toBe(true);
  });
});
