import { EncoderUnavailable, type Embedder } from '../models/encoder/encoder';
import { ThreadedEncoder } from '../models/encoder/threaded-encoder';
import { config } from '../common/config';

export type EncoderState = 'ready' | 'unavailable' | 'disabled';

/**
 * The worker's sentence encoder, loaded once at start in a thread of its own (threaded-encoder.ts). When it cannot load (not set up, a file changed, or
 * CS_ENCODER=off) the worker keeps serving: fused models answer with their n-gram head and retrieval is BM25
 * alone. `status` says which, for the logs and /healthz.
 */
export class EncoderHolder {
  private encoder: Embedder | undefined;
  private state: { state: EncoderState; detail: string } = { state: 'unavailable', detail: 'not loaded yet' };

  /** `dir`: where the converted encoder is (default CS_ENCODER_DIR, else .data/encoder). */
  constructor(private readonly dir?: string) {}

  async load(): Promise<void> {
    if (!config.encoder.enabled) {
      this.state = { state: 'disabled', detail: 'CS_ENCODER=off: n-gram models alone' };
      return;
    }
    try {
      this.encoder = await ThreadedEncoder.start({ dir: this.dir, threads: config.encoder.threads });
      this.state = { state: 'ready', detail: this.encoder.id };
    } catch (err) {
      const reason = err instanceof EncoderUnavailable || err instanceof Error ? err.message : String(err);
      this.state = { state: 'unavailable', detail: `${reason}; serving with the n-gram models alone` };
    }
  }

  current(): Embedder | undefined {
    return this.encoder;
  }

  status(): { state: EncoderState; detail: string } {
    return this.state;
  }

  async release(): Promise<void> {
    await this.encoder?.release();
    this.encoder = undefined;
  }
}
