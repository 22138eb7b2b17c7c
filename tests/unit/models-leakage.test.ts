import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CORPUS, CORPUS_DIR, DIALOGUES_FILE, HELD_OUT_ONLY, heldOutElsewhere, type Task } from '../../models/corpus';
import { DEFAULT_FEATURIZER } from '../../models/featurize';
import { type Example, loadFiles, loadJsonl } from '../../models/data';
import { comparisonForm, dialogueTestTurns, findLeaks } from '../../models/leakage';
import { DEFAULT_TRAIN_OPTIONS, trainTask } from '../../models/train-task';

const TASKS: Task[] = ['intent', 'emotion'];

describe('no held-out line leaks into training', () => {
  it('every labelled corpus file is known to the trainer, as training data or as a held-out set', () => {
    // ambiguous.jsonl is not labelled data ({"text", "candidates"}), it is read by eval:understanding only.
    const files = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.jsonl') && f !== 'ambiguous.jsonl');
    const known = TASKS.flatMap((t) => [...CORPUS[t], ...HELD_OUT_ONLY[t]]).map((f) => path.basename(f));
    expect(files.sort()).toEqual(known.sort());
  });

  it('no training line of any corpus file copies or nearly copies a held-out line of its task (dialogue test turns included)', () => {
    const t0 = performance.now();
    for (const task of TASKS) {
      const lines = CORPUS[task].flatMap((f) => loadJsonl(f));
      const heldOut = [...lines.filter((e) => e.split === 'test'), ...heldOutElsewhere(task)];
      const leaks = findLeaks(
        lines.filter((e) => e.split !== 'test'),
        heldOut,
      );
      expect(heldOut.length).toBeGreaterThan(0);
      expect(leaks.map((l) => `${l.train.origin} ${l.train.text} ≈ ${l.heldOut.origin} ${l.heldOut.text}`)).toEqual([]);
    }
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('emotion-mixed-test.jsonl is held out for the emotion task', () => {
  it('is registered as held-out only, every line "split": "test", and no emotion training line copies one', () => {
    const file = path.join(CORPUS_DIR, 'emotion-mixed-test.jsonl');
    expect(HELD_OUT_ONLY.emotion).toEqual([file]);
    expect(CORPUS.emotion).not.toContain(file);
    const lines = loadJsonl(file);
    expect(lines.length).toBeGreaterThanOrEqual(80);
    expect(lines.every((e) => e.split === 'test')).toBe(true);
    expect(new Set(lines.map((e) => e.label))).toEqual(new Set(['positive', 'neutral', 'anxious', 'angry', 'disappointed']));
    const heldOut = new Set(heldOutElsewhere('emotion').map((e) => e.text));
    for (const e of lines) expect(heldOut.has(e.text)).toBe(true);
    // A training line copying one of them (up to punctuation) is caught like a copy of the test split.
    const copy = { text: `${lines[0].text}！！`, label: lines[0].label };
    expect(findLeaks([copy], heldOutElsewhere('emotion')).map((l) => l.heldOut.text)).toEqual([lines[0].text]);
  });
});

describe('the dialogue test split is held out for the intent task', () => {
  type Conversation = { id: string; split: 'train' | 'test'; turns: { text: string; label: { intent: string } }[] };
  const conversations = (): Conversation[] =>
    readFileSync(DIALOGUES_FILE, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Conversation);

  it('every turn of every test conversation, and no train turn, is a held-out intent line', () => {
    const all = conversations();
    const testTurns = all.filter((c) => c.split === 'test').flatMap((c) => c.turns.map((t) => t.text));
    const trainOnly = all
      .filter((c) => c.split === 'train')
      .flatMap((c) => c.turns.map((t) => t.text))
      .filter((t) => !testTurns.includes(t));
    expect(testTurns.length).toBeGreaterThan(300);
    const turns = dialogueTestTurns(DIALOGUES_FILE);
    expect(turns.map((t) => t.text)).toEqual(testTurns);
    expect(turns[0].origin).toMatch(/dialogues\.jsonl:\d+ d\d{4} turn 1$/);
    const intentHeldOut = new Set(heldOutElsewhere('intent').map((e) => e.text));
    for (const text of testTurns) expect(intentHeldOut.has(text)).toBe(true);
    for (const text of trainOnly) expect(intentHeldOut.has(text)).toBe(false);
    // Emotion has no dialogue turns held out, only its held-out-only file (emotion-mixed-test.jsonl).
    expect(heldOutElsewhere('emotion')).toEqual(HELD_OUT_ONLY.emotion.flatMap((f) => loadJsonl(f)));
  });

  it('a training line equal or near-equal to a test turn leaks; one copying a train turn does not', () => {
    const all = conversations();
    const testTurn = all.find((c) => c.split === 'test')!.turns.find((t) => Array.from(comparisonForm(t.text)).length >= 6)!.text;
    const trainTurn = all.find((c) => c.split === 'train')!.turns[0].text;
    const train = [{ text: `${testTurn}!` }, { text: `${testTurn}啊` }, { text: trainTurn }, { text: '完全不相干的一句话' }];
    const leaks = findLeaks(train, heldOutElsewhere('intent'));
    expect(leaks.map((l) => l.train.text)).toEqual([`${testTurn}!`, `${testTurn}啊`]);
    expect(leaks[0].similarity).toBe(1);
    expect(leaks[1].similarity).toBeGreaterThanOrEqual(0.7);
  });

  it('reads only the test conversations of a dialogue file, and names the line of a malformed one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'models-dialogues-'));
    try {
      const file = path.join(dir, 'dialogues.jsonl');
      const conv = (id: string, split: string, texts: string[]) => JSON.stringify({ id, split, turns: texts.map((text) => ({ text, label: { intent: 'meta.will_try' } })) });
      writeFileSync(file, [conv('d0001', 'train', ['训练集里的一句']), '', conv('d0002', 'test', ['好 我回头去弄', '诶 自己好了'])].join('\n') + '\n');
      expect(dialogueTestTurns(file)).toEqual([
        { text: '好 我回头去弄', label: 'meta.will_try', origin: expect.stringMatching(/dialogues\.jsonl:3 d0002 turn 1$/) },
        { text: '诶 自己好了', label: 'meta.will_try', origin: expect.stringMatching(/dialogues\.jsonl:3 d0002 turn 2$/) },
      ]);
      writeFileSync(file, conv('d0001', 'test', ['一句']) + '\n' + JSON.stringify({ id: 'd0002', split: 'dev', turns: [] }) + '\n');
      expect(() => dialogueTestTurns(file)).toThrow(/dialogues\.jsonl:2: a conversation needs "split": "train" or "test"/);
      writeFileSync(file, JSON.stringify({ id: 'd0001', split: 'test', turns: [{ text: ' ' }] }) + '\n');
      expect(() => dialogueTestTurns(file)).toThrow(/dialogues\.jsonl:1: turn 1 needs a non-empty "text"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('findLeaks', () => {
  const heldOut = [{ text: '我的快递到哪了？' }, { text: '直播收益怎么提现到银行卡' }];

  it('compares lines after NFKC, lower case and without whitespace or punctuation', () => {
    expect(comparisonForm('ＤＯＵ＋ 投了，没效果！')).toBe('dou+投了没效果');
    const leaks = findLeaks([{ text: '我的快递 到哪了' }, { text: '我的快递到哪了!!' }], heldOut);
    expect(leaks.map((l) => l.similarity)).toEqual([1, 1]);
  });

  it('finds near-copies at bigram Jaccard ≥ 0.7 and leaves different wording alone', () => {
    const leaks = findLeaks([{ text: '直播收益怎么提现到银行卡啊' }, { text: '主播赚的钱怎么转到卡里' }, { text: '快递' }], heldOut);
    expect(leaks.map((l) => l.train.text)).toEqual(['直播收益怎么提现到银行卡啊']);
    expect(leaks[0].heldOut.text).toBe('直播收益怎么提现到银行卡');
    expect(leaks[0].similarity).toBeGreaterThanOrEqual(0.7);
    expect(leaks[0].similarity).toBeLessThan(1);
  });

  it('agrees with comparing all pairs', () => {
    const train = CORPUS.intent.flatMap((f) => loadJsonl(f)).filter((e) => e.split !== 'test').slice(0, 1500);
    const probe = [...train.slice(0, 300).map((e) => ({ text: `${e.text}吗` })), { text: '完全不同的一句话' }];
    const bigrams = (t: string) => {
      const c = Array.from(comparisonForm(t));
      return new Set(c.length === 1 ? c : c.slice(1).map((ch, i) => c[i] + ch));
    };
    const naive = probe.filter((p) => {
      const a = bigrams(p.text);
      return train.some((h) => {
        const b = bigrams(h.text);
        const shared = [...a].filter((g) => b.has(g)).length;
        return comparisonForm(p.text) === comparisonForm(h.text) || shared / (a.size + b.size - shared) >= 0.7;
      });
    });
    expect(findLeaks(probe, train).map((l) => l.train)).toEqual(naive);
  });
});

describe('the trainer refuses leaking data', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'models-leak-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const cfg = {
    task: 'intent' as const,
    featurizer: { ...DEFAULT_FEATURIZER, dim: 1 << 10, lexicon: null, words: 'off' as const },
    options: { ...DEFAULT_TRAIN_OPTIONS.intent, epochs: 2 },
    folds: 2,
    novelMaxSimilarity: 0.3,
    reportTest: true,
  };
  /** Two labels of clearly different lines, all train. */
  const clean: Example[] = [
    ...['登录不上去', '验证码收不到', '密码忘记了', '账号登不进去', '换手机后登录失败', '扫码登录没反应'].map((text) => ({ text, label: 'login', split: 'train' as const })),
    ...['我要退货', '退款什么时候到', '东西不想要了能退吗', '申请售后', '退钱到哪里了', '仅退款怎么操作'].map((text) => ({ text, label: 'refund', split: 'train' as const })),
  ];
  const write = (name: string, lines: object[]): string => {
    const file = path.join(dir, name);
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return file;
  };

  it('refuses when a train line (nearly) copies a "split": "test" line, naming the lines and counting them', () => {
    const file = write('leaky.jsonl', [
      ...clean,
      { text: '退款多久能到账？', label: 'refund', split: 'test' },
      { text: '登录时一直提示网络错误', label: 'login', split: 'test' },
      { text: '退款多久能到账啊', label: 'refund', split: 'train' },
      { text: '登录时一直提示网络错误', label: 'login', split: 'train' },
    ]);
    const err = (() => {
      try {
        trainTask(loadFiles([file]), cfg);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(/^refusing to train intent: 2 training lines copy or nearly copy/);
    expect(err?.message).toContain('leaky.jsonl:16 "登录时一直提示网络错误" = held-out');
    expect(err?.message).toMatch(/leaky\.jsonl:15 "退款多久能到账啊" ≈ \(0\.\d\d\) held-out .*leaky\.jsonl:13/);
    expect(err?.message).toMatch(/per file: .*leaky\.jsonl 2/);
  });

  it('refuses when a train line copies a turn of a held-out dialogue conversation', () => {
    const file = write('clean2.jsonl', clean);
    const dialogues = path.join(dir, 'dialogues.jsonl');
    writeFileSync(dialogues, JSON.stringify({ id: 'd0009', split: 'test', turns: [{ text: '密码忘记了!', label: { intent: 'login' } }] }) + '\n');
    expect(() => trainTask({ ...loadFiles([file]), heldOutElsewhere: dialogueTestTurns(dialogues) }, cfg)).toThrow(
      /refusing to train intent: 1 training lines .*\n.*"密码忘记了" = held-out .*dialogues\.jsonl:1 d0009 turn 1/,
    );
  });

  it('refuses when a train line copies a line of a separate held-out set', () => {
    const file = write('clean.jsonl', clean);
    const heldOutElsewhere = [{ text: '验证码收不到!', label: 'login', origin: 'fresh.jsonl:1' }];
    expect(() => trainTask({ ...loadFiles([file]), heldOutElsewhere }, cfg)).toThrow(/refusing to train intent: 1 training lines .*\n.*"验证码收不到" = held-out fresh\.jsonl:1/);
  });

  it('without any "split", drops the train lines that copy the seeded hold-out, and says how many', () => {
    // Every line twice: whichever copy is held out, its twin must not be trained on.
    const twice = clean.flatMap(({ text, label }) => [{ text, label }, { text: `${text}!`, label }]);
    const messages: string[] = [];
    const model = trainTask(loadFiles([write('twice.jsonl', twice)]), { ...cfg, log: (m) => messages.push(m) });
    expect(model.data.droppedAsLeaks).toBe(model.data.test);
    expect(messages.some((m) => m.includes(`dropped ${model.data.test} train lines that copy or nearly copy`))).toBe(true);
    expect(findLeaks(model.lines.train, model.lines.test)).toEqual([]);
    expect(model.lines.train.length + model.lines.test.length + model.data.droppedAsLeaks).toBe(twice.length);
  });
});
