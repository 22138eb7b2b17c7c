/**
 * The sentence encoder in a worker thread of its own (encoder-thread-main.ts), with the same `embed` as
 * `SentenceEncoder`. Workers use this one: onnxruntime-node computes on the calling thread, and a Temporal worker's
 * event loop, which also runs workflow activations, must not stop for every encoded message.
 */
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { EncoderUnavailable, type EmbedKind, type Embedder, type EncoderLoadOptions } from './encoder';
import type { FromThread, ToThread } from './encoder-thread-main';

export class ThreadedEncoder implements Embedder {
  private seq = 0;
  private readonly pending = new Map<number, { resolve(v: Float32Array[]): void; reject(e: Error): void }>();
  private failure: Error | undefined;

  private constructor(
    private readonly thread: Worker,
    readonly id: string,
    readonly dim: number,
  ) {
    thread.on('message', (m: FromThread) => {
      if (m.type !== 'result' && m.type !== 'error') return;
      const p = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      if (m.type === 'error') p?.reject(new Error(m.message));
      else p?.resolve(Array.from({ length: m.flat.length / dim }, (_, i) => m.flat.subarray(i * dim, (i + 1) * dim)));
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`the encoder thread exited (code ${code})`)));
  }

  /** Start the thread and load the encoder in it; rejects with EncoderUnavailable when it cannot load. */
  static start(options: EncoderLoadOptions = {}): Promise<ThreadedEncoder> {
    // The thread loads TypeScript through tsx's CommonJS hook, however the main thread was started (tsx, vitest).
    const entry = path.join(__dirname, 'encoder-thread-main.ts');
    const code = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(entry)});`;
    const thread = new Worker(code, { eval: true, workerData: options });
    thread.unref(); // an idle encoder thread never keeps a process alive
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromThread) => {
        if (m.type === 'ready') {
          thread.off('message', onMessage);
          resolve(new ThreadedEncoder(thread, m.id, m.dim));
        } else if (m.type === 'failed') {
          void thread.terminate();
          reject(new EncoderUnavailable(m.message));
        }
      };
      thread.on('message', onMessage);
      thread.once('error', (err) => reject(new EncoderUnavailable(`the encoder thread failed: ${err.message}`)));
    });
  }

  embed(texts: readonly string[], kind: EmbedKind): Promise<Float32Array[]> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.thread.postMessage({ seq, texts: [...texts], kind } satisfies ToThread);
    });
  }

  async release(): Promise<void> {
    await this.thread.terminate();
  }
}
