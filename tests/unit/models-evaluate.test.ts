import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_FEATURIZER } from '../../models/featurize';
import { type Example, loadFiles, loadJsonl, trainTestSplit } from '../../models/data';
import { evaluationSet } from '../../models/evaluate';
import { saveArtifacts } from '../../models/onnx-export';
import { DEFAULT_TRAIN_OPTIONS, trainTask } from '../../models/train-task';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'models-eval-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, lines: object[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

/** An operator's log: three labels of distinct wording, no "split" (so the trainer holds out a seeded 10%). */
function operatorLog(): Example[] {
  const topics: Record<string, string[]> = {
    login: ['登录', '验证码', '密码', '扫码', '人脸识别', '换设备', '异地登录', '账号冻结'],
    refund: ['退款', '退货', '售后', '仅退款', '运费险', '换货', '拒收', '维权'],
    live: ['直播', '开播', '连麦', '礼物', '直播间', '推流', '美颜', '带货'],
  };
  const asks = ['出问题了', '怎么弄啊', '一直失败', '有人管吗', '什么原因', '急死了', '求帮忙看看', '到底咋回事', '第一次遇到', '能解决吗'];
  return Object.entries(topics).flatMap(([label, words]) => words.flatMap((w) => asks.map((a, j) => ({ text: `${j % 2 ? '' : '请问'}${w}${a}`, label }))));
}

const cfg = {
  task: 'intent' as const,
  featurizer: { ...DEFAULT_FEATURIZER, dim: 1 << 10, lexicon: null, words: 'off' as const },
  folds: 2,
  novelMaxSimilarity: 0.3,
  reportTest: false,
};

describe('evaluate.ts rebuilds the trainer\'s hold-out', () => {
  it('with a non-default seed, scores exactly the lines the trainer held out and none it trained on', () => {
    const file = write('log.jsonl', operatorLog());
    const options = { ...DEFAULT_TRAIN_OPTIONS.intent, epochs: 2, seed: 7 };
    const model = trainTask(loadFiles([file]), { ...cfg, options });
    const { metadata } = saveArtifacts(model, path.join(dir, 'seed7'));
    expect(metadata.training.options.seed).toBe(7);
    expect(metadata.training.data.holdOutFraction).toBe(0.1);
    expect(metadata.training.data.files.map((f) => f.path)).toEqual([path.relative(path.join(__dirname, '..', '..'), file)]);

    const trained = new Set(model.lines.train.map((e) => e.text));
    for (const set of [evaluationSet(metadata, [file]), evaluationSet(metadata)]) {
      expect(set.test.map((e) => e.text)).toEqual(model.lines.test.map((e) => e.text));
      expect(set.test.filter((e) => trained.has(e.text))).toEqual([]);
      expect(set.warnings).toEqual([]);
    }
    // The hold-out of the default seed, which evaluate.ts used before, overlaps what this model trained on.
    const defaultSeedTest = trainTestSplit(loadJsonl(file), DEFAULT_TRAIN_OPTIONS.intent.seed).test;
    expect(defaultSeedTest.filter((e) => trained.has(e.text)).length).toBeGreaterThan(0);
  });

  it('takes several comma-separated files like train --data, and warns when a seeded hold-out comes from other files', () => {
    const log = operatorLog();
    const a = write('a.jsonl', log.slice(0, 120));
    const b = write('b.jsonl', log.slice(120));
    const model = trainTask(loadFiles([a, b]), { ...cfg, options: { ...DEFAULT_TRAIN_OPTIONS.intent, epochs: 2, seed: 11 } });
    const { metadata } = saveArtifacts(model, path.join(dir, 'two-files'));
    expect(evaluationSet(metadata, [a, b]).test.map((e) => e.text)).toEqual(model.lines.test.map((e) => e.text));
    expect(evaluationSet(metadata, [a]).warnings[0]).toMatch(/differ from the files it was trained on/);
  });

  it('warns about labels with fewer than 5 training lines and about test labels never seen in training', () => {
    const train = write('small.jsonl', [
      ...operatorLog().map((e) => ({ ...e, split: 'train' })),
      ...['发票怎么开', '要开专票'].map((text) => ({ text, label: 'invoice', split: 'train' })),
      { text: '请问密码老是错误', label: 'login', split: 'test' },
    ]);
    const messages: string[] = [];
    const model = trainTask(loadFiles([train]), { ...cfg, options: { ...DEFAULT_TRAIN_OPTIONS.intent, epochs: 2 }, log: (m) => messages.push(m) });
    expect(messages).toContainEqual(expect.stringMatching(/warning: 1 label\(s\) have fewer than 5 training lines.*invoice \(2\)/));
    const { metadata } = saveArtifacts(model, path.join(dir, 'small'));

    const other = write('other.jsonl', [
      { text: '积分怎么兑换', label: 'points', split: 'test' },
      { text: '会员怎么续费', label: 'vip', split: 'test' },
      { text: '请问登录老提示异常', label: 'login', split: 'test' },
    ]);
    const { warnings } = evaluationSet(metadata, [other]);
    expect(warnings).toContainEqual(expect.stringMatching(/fewer than 5 training lines.*invoice \(2\)/));
    expect(warnings).toContainEqual(expect.stringMatching(/2 test label\(s\) never occur in training.*points \(1 lines\), vip \(1 lines\)/));
  });
});

describe('bad data gets an error naming the file and line', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty text', '{"text": "", "label": "login"}', /"text" must be a non-empty string, got string ""/],
    ['blank text', '{"text": "   ", "label": "login"}', /"text" must be a non-empty string/],
    ['missing text', '{"label": "login"}', /"text" must be a non-empty string, got nothing/],
    ['numeric label', '{"text": "登录不了", "label": 3}', /"label" must be a non-empty string, got number 3/],
    ['unknown split', '{"text": "登录不了", "label": "login", "split": "dev"}', /"split" must be "train" or "test" \(or absent\), got string "dev"/],
    ['not an object', '["登录不了", "login"]', /expected an object/],
    ['invalid JSON', '{"text": "登录不了", "label": login}', /invalid JSON/],
  ];
  for (const [name, line, message] of cases) {
    it(name, () => {
      const file = path.join(dir, 'bad.jsonl');
      writeFileSync(file, `{"text": "好的", "label": "affirm"}\n\n${line}\n`);
      expect(() => loadJsonl(file)).toThrow(new RegExp(`bad\\.jsonl:3: ${message.source}`));
    });
  }
});
