/**
 * Runs in a worker thread (threaded-encoder.ts starts it): loads the sentence encoder and embeds what the main thread
 * sends. onnxruntime-node runs inference synchronously on the calling thread, so the ~15 ms of an encoding happens
 * here instead of blocking the Temporal worker's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SentenceEncoder, type EmbedKind, type EncoderLoadOptions } from './encoder';

export type ToThread = { seq: number; texts: string[]; kind: EmbedKind };
export type FromThread =
  | { type: 'ready'; id: string; dim: number }
  | { type: 'failed'; message: string }
  | { type: 'result'; seq: number; flat: Float32Array }
  | { type: 'error'; seq: number; message: string };

const port = parentPort;
const send = (m: FromThread, transfer: ArrayBuffer[] = []) => port?.postMessage(m, transfer);

async function main(options: EncoderLoadOptions): Promise<void> {
  let encoder: SentenceEncoder;
  try {
    encoder = await SentenceEncoder.load(options);
  } catch (err) {
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  send({ type: 'ready', id: encoder.id, dim: encoder.dim });
  port?.on('message', (m: ToThread) => {
    encoder.embed(m.texts, m.kind).then(
      (vectors) => {
        const flat = new Float32Array(vectors.length * encoder.dim);
        vectors.forEach((v, i) => flat.set(v, i * encoder.dim));
        send({ type: 'result', seq: m.seq, flat }, [flat.buffer]);
      },
      (err: unknown) => send({ type: 'error', seq: m.seq, message: err instanceof Error ? err.message : String(err) }),
    );
  });
}

void main(workerData as EncoderLoadOptions);
