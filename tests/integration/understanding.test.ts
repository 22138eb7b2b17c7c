import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../models/model-format';
import { ARTIFACTS_DIR, publishArtifacts } from '../../models/registry';
import { CONTENT_DIR, seedKnowledge } from '../../knowledge/store';
import { cpSync } from 'node:fs';
import { startStack, type Stack } from '../support/stack';
import { ngramOnlyArtifacts } from '../support/ngram-only';
import { EncoderHolder } from '../../activities/encoder-holder';
import type { WorkerUnderstanding } from '../../worker/status';

const EMOTIONS = ['positive', 'neutral', 'anxious', 'angry', 'disappointed'];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('understanding');
});
afterAll(async () => stack?.teardown());

describe('understanding with the trained models', () => {
  it.each([
    ['我的验证码一直收不到，登录不了', 'account.login'],
    ['视频发出去半天了一直显示审核中', 'creator.review_stuck'],
    ['直播的时候突然被断了，说我违规', 'live.interrupted'],
    ['充值的币怎么还没到账啊', 'pay.recharge'],
    ['弹窗太多了怎么关掉', 'app.popup'],
  ])('routes "%s" to %s and reports intent and emotion', async (text, intent) => {
    const res = await stack.post('app', { userId: `route-${intent.replace('.', '-')}`, text });
    expect(res.status).toBe(200);
    expect(res.body.intent).toMatchObject({ name: intent, model: 'intent@v1' });
    expect(res.body.intent.confidence).toBeGreaterThan(0.5);
    expect(EMOTIONS).toContain(res.body.emotion.label);
    expect(res.body.state).toBe('answering.awaitingFeedback');
    expect(res.body.replies.find((r: { kind: string }) => r.kind === 'answer')).toBeDefined();
  });

  it('answers an out-of-scope message politely as out of scope', async () => {
    const res = await stack.post('app', { userId: 'oos-user', text: '帮我写一篇关于春天的作文' });
    expect(res.body.intent.name).toBe('oos');
    expect(res.body.state).toBe('idle');
    expect(res.body.replies.at(-1).text).toContain('不在平台客服的服务范围内');
  });

  it('apologises to an angry user before answering', async () => {
    const res = await stack.post('app', { userId: 'angry-user', text: '你们这什么破平台！充的钱到现在都没到账，气死我了' });
    expect(res.body.emotion.label).toBe('angry');
    expect(res.body.replies.map((r: { kind: string }) => r.kind)).toContain('apology');
  });

  it('swaps to a newly published model without a restart and without failing turns in flight', async () => {
    // A second version: the same weights in a re-encoded graph (new doc string, so a new checksum).
    const dir = mkdtempSync(path.join(tmpdir(), 'cs-models-'));
    const meta = JSON.parse(readFileSync(path.join(ARTIFACTS_DIR, 'intent.json'), 'utf8'));
    const model = onnx.ModelProto.decode(readFileSync(path.join(ARTIFACTS_DIR, path.basename(meta.onnx.file))));
    model.docString = `${model.docString ?? ''} (republished for the swap test)`;
    const bytes = onnx.ModelProto.encode(model).finish();
    writeFileSync(path.join(dir, 'intent.onnx'), bytes);
    writeFileSync(path.join(dir, 'intent.json'), JSON.stringify({ ...meta, onnx: { ...meta.onnx, file: 'intent.onnx', sha256: sha256(bytes) } }));
    for (const f of ['emotion.json', 'emotion.onnx']) copyFileSync(path.join(ARTIFACTS_DIR, f), path.join(dir, f));

    const versions = new Set<string>();
    let failures = 0;
    const talk = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const res = await stack.post('app', { userId: `swap-user-${i}`, text: '怎么开通直播' });
        if (res.status !== 200) failures++;
        else if (res.body.intent?.model) versions.add(res.body.intent.model);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const conversation = talk(20);
    await new Promise((r) => setTimeout(r, 500));
    const [intent] = await publishArtifacts(stack.ds, dir, { tasks: ['intent'] });
    expect(intent).toMatchObject({ version: 2, published: true });
    await conversation;
    expect(failures).toBe(0);
    expect([...versions].sort()).toEqual(['intent@v1', 'intent@v2']);
  });

  it('falls back to the numbered menu when the model file is corrupt, and recovers when a good one is published', async () => {
    await stack.stopWorker();
    await stack.ds.query(`UPDATE model_versions SET onnx = 'not an onnx graph'::bytea WHERE task = 'intent' AND is_current`);
    await stack.startWorker(); // cannot load the intent model
    const res = await stack.post('app', { userId: 'degraded-model-user', text: '我的验证码一直收不到' });
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('menu');
    expect(res.body.replies.map((r: { kind: string }) => r.kind)).toEqual(['system', 'apology', 'menu']);

    await publishArtifacts(stack.ds); // the committed, intact artifacts become current again
    await new Promise((r) => setTimeout(r, 1500)); // the worker follows the registry every 300 ms in tests
    const ok = await stack.post('app', { userId: 'recovered-model-user', text: '我的验证码一直收不到' });
    expect(ok.body.intent.name).toBe('account.login');
  });

  it('loads unchanged knowledge files as a no-op, and an edited entry reaches the running worker without a restart', async () => {
    expect(await seedKnowledge(stack.ds)).toEqual({ inserted: 0, updated: 0 });
    const dir = mkdtempSync(path.join(tmpdir(), 'cs-knowledge-'));
    cpSync(CONTENT_DIR, dir, { recursive: true });
    const file = path.join(dir, 'account.json');
    const entries = JSON.parse(readFileSync(file, 'utf8'));
    const realname = entries.find((e: { intent: string }) => e.intent === 'account.realname');
    realname.solution.summary = '【已更新】实名认证请在「我-设置-账号与安全-实名认证」中完成。';
    writeFileSync(file, JSON.stringify(entries));
    expect(await seedKnowledge(stack.ds, dir)).toEqual({ inserted: 0, updated: 1 });
    await new Promise((r) => setTimeout(r, 1500)); // workers look for knowledge edits every 300 ms in tests
    const res = await stack.post('app', { userId: 'knowledge-edit-user', text: '实名认证怎么弄' });
    expect(res.body.replies.find((r: { kind: string }) => r.kind === 'answer').text).toContain('【已更新】');
  });
});

/** Poll `check` every 200 ms for up to 15 s (the worker follows the registry every 300 ms in tests). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 75 && !(await check()); i++) await new Promise((r) => setTimeout(r, 200));
}

describe('the sentence encoder in the worker', () => {
  const health = async (): Promise<WorkerUnderstanding> => {
    const res = await fetch(`${stack.baseUrl}/healthz`);
    const body = (await res.json()) as { workers: Array<{ taskQueue: string; understanding: WorkerUnderstanding }> };
    const worker = body.workers.find((w) => w.taskQueue === stack.taskQueue);
    if (!worker) throw new Error(`no worker of ${stack.taskQueue} in /healthz`);
    return worker.understanding;
  };

  it('reads with the fused models and says so in /healthz', async () => {
    const h = await health();
    expect(h.encoder.state).toBe('ready');
    expect(h.mode).toBe('fused');
    expect(h.models.intent).toMatchObject({ fused: true, encoderServed: true });
  });

  it('keeps serving with the n-gram heads when the encoder cannot load, and says so in the log and /healthz', async () => {
    await stack.stopWorker();
    const missing = mkdtempSync(path.join(tmpdir(), 'cs-no-encoder-'));
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
    try {
      const encoder = new EncoderHolder(missing);
      await encoder.load();
      await stack.startWorker({ encoder });
      const res = await stack.post('app', { userId: 'no-encoder-user', text: '我的验证码一直收不到，登录不了' });
      expect(res.status).toBe(200);
      expect(res.body.intent.name).toBe('account.login');
      const h = await health();
      expect(h.encoder.state).toBe('unavailable');
      expect(h.encoder.detail).toMatch(/n-gram models alone/);
      expect(h.mode).toBe('ngram-only');
      expect(encoder.status().detail).toContain(missing);
      expect(warnings.join('\n')).toMatch(/sentence encoder unavailable: .*serving with the n-gram models alone/);
    } finally {
      console.warn = warn;
      await stack.stopWorker();
      await stack.startWorker();
    }
    expect((await health()).mode).toBe('fused');
  });

  it('swaps between an n-gram-only and a fused model under traffic without failing a turn', async () => {
    const versions = new Set<string>();
    let failures = 0;
    const talk = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const res = await stack.post('app', { userId: `fused-swap-${i}`, text: i % 2 ? '包裹好几天没动静了' : '怎么开通直播' });
        if (res.status !== 200 || !res.body.intent) failures++;
        else versions.add(res.body.intent.model);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const traffic = talk(30);
    await new Promise((r) => setTimeout(r, 500));
    const [ngram] = await publishArtifacts(stack.ds, ngramOnlyArtifacts('intent'), { tasks: ['intent'] });
    await until(async () => (await health()).models.intent?.version === ngram.version);
    expect((await health()).models.intent).toMatchObject({ version: ngram.version, fused: false, encoderServed: false });
    const [fused] = await publishArtifacts(stack.ds, ARTIFACTS_DIR, { tasks: ['intent'] });
    await traffic;
    await until(async () => (await health()).models.intent?.version === fused.version);
    expect(failures).toBe(0);
    expect(versions).toContain(`intent@v${ngram.version}`);
    expect(versions).toContain(`intent@v${fused.version}`);
    expect((await health()).models.intent).toMatchObject({ version: fused.version, fused: true, encoderServed: true });
  });
});
