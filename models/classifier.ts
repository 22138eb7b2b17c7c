/**
 * Serving: load `<dir>/<task>.onnx` + `<dir>/<task>.json` and classify texts with onnxruntime-node.
 *
 *   const intent = await OnnxClassifier.load('models/artifacts', 'intent');
 *   const { label, confidence, scores } = await intent.predict('验证码收不到登录不了');
 *
 * On load the ONNX file's sha256 must match the metadata, the graph must parse, and a probe inference must
 * return one probability per label; otherwise load() throws an OnnxClassifierLoadError saying what is wrong.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { Featurizer, FEATURIZER_VERSION, writeDense } from './featurize';
import { decide } from './decision';
import { OOS_LABEL } from './data';
import { INPUT_NAME, METADATA_FORMAT, OUTPUT_NAME, sha256, type ModelMetadata } from './onnx-export';

// The pure TypeScript forward pass (same function as the ONNX graph), for tests and debugging.
export { forwardDense, forwardSparse } from './network';
export { networkFromOnnx } from './onnx-export';

export interface Prediction {
  label: string;
  /**
   * Probability of `label`. When "oos" comes from the threshold rule (the best in-scope intent was not
   * probable enough) it is 1 − (best in-scope probability).
   */
  confidence: number;
  /** All labels with their softmax probabilities, highest first. */
  scores: Array<{ label: string; score: number }>;
}

export class OnnxClassifierLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxClassifierLoadError';
  }
}

const MetadataSchema = z.object({
  format: z.literal(METADATA_FORMAT),
  formatVersion: z.number().int(),
  task: z.string(),
  labels: z.array(z.string()).min(2),
  dim: z.number().int().positive(),
  featurizer: z.object({
    version: z.string(),
    dim: z.number().int().positive(),
    charNgrams: z.array(z.number().int()),
    words: z.enum(['off', 'cut', 'search']),
    skipBigrams: z.boolean(),
    lexicon: z.string().nullable(),
    lexiconWeight: z.number().positive(),
    numMinDigits: z.number().int(),
    norm: z.enum(['l2', 'none']),
  }),
  threshold: z.number().min(0).max(1).nullable(),
  onnx: z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), input: z.string(), output: z.string() }).passthrough(),
}).passthrough();

export interface LoadOptions {
  /** onnxruntime intra-op threads; 1 is fastest for single short messages. */
  threads?: number;
}

export class OnnxClassifier {
  readonly labels: readonly string[];
  readonly threshold: number | undefined;
  readonly featurizer: Featurizer;
  readonly dim: number;

  private constructor(
    readonly task: string,
    readonly metadata: ModelMetadata,
    private readonly session: ort.InferenceSession,
  ) {
    this.labels = metadata.labels;
    this.threshold = metadata.threshold ?? undefined;
    this.featurizer = new Featurizer(metadata.featurizer);
    this.dim = metadata.dim;
  }

  static async load(dir: string, task: string, options: LoadOptions = {}): Promise<OnnxClassifier> {
    const metaPath = path.join(dir, `${task}.json`);
    const fail = (msg: string): never => {
      throw new OnnxClassifierLoadError(`cannot load ${task} classifier from ${dir}: ${msg}`);
    };
    let metaRaw: string;
    try {
      metaRaw = readFileSync(metaPath, 'utf8');
    } catch (e) {
      return fail(`metadata file ${metaPath} is missing or unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); run \`tsx models/train.ts\``);
    }
    let metaJson: unknown;
    try {
      metaJson = JSON.parse(metaRaw);
    } catch (e) {
      return fail(`metadata file ${metaPath} is not valid JSON (${(e as Error).message})`);
    }
    const parsed = MetadataSchema.safeParse(metaJson);
    if (!parsed.success) {
      return fail(`metadata file ${metaPath} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const meta = parsed.data as unknown as ModelMetadata;
    if (meta.featurizer.version !== FEATURIZER_VERSION) {
      fail(`model was trained with featurizer "${meta.featurizer.version}" but this code implements "${FEATURIZER_VERSION}"; retrain`);
    }
    if (meta.featurizer.dim !== meta.dim) fail(`metadata dim ${meta.dim} ≠ featurizer dim ${meta.featurizer.dim}`);
    if (meta.threshold !== null && !meta.labels.includes(OOS_LABEL)) fail('metadata has an oos threshold but no "oos" label');

    const onnxPath = path.join(dir, path.basename(meta.onnx.file));
    let bytes: Buffer;
    try {
      bytes = readFileSync(onnxPath);
    } catch (e) {
      return fail(`model file ${onnxPath} is missing or unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const actual = sha256(bytes);
    if (actual !== meta.onnx.sha256) {
      fail(`model file ${onnxPath} is corrupt or was replaced: sha256 ${actual} does not match ${meta.onnx.sha256} in ${metaPath}`);
    }

    let session: ort.InferenceSession;
    try {
      // Create from the verified bytes, so what runs is exactly what was checked.
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: options.threads ?? 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
      });
    } catch (e) {
      return fail(`onnxruntime could not load ${onnxPath}: ${(e as Error).message}`);
    }
    if (!session.inputNames.includes(INPUT_NAME) || !session.outputNames.includes(OUTPUT_NAME)) {
      await session.release();
      fail(`graph must have input "${INPUT_NAME}" and output "${OUTPUT_NAME}", has [${session.inputNames}] → [${session.outputNames}]`);
    }
    const clf = new OnnxClassifier(task, meta, session);
    // Probe: one empty row must give one probability per label (also warms the session up).
    let probe: Float32Array;
    try {
      probe = await clf.run(new Float32Array(meta.dim), 1);
    } catch (e) {
      await session.release();
      return fail(`probe inference failed: ${(e as Error).message}`);
    }
    if (probe.length !== meta.labels.length) {
      await session.release();
      fail(`graph outputs ${probe.length} probabilities but the metadata lists ${meta.labels.length} labels`);
    }
    return clf;
  }

  /** Run the graph on a dense [n, dim] feature matrix → flat [n, C] probabilities. */
  async run(features: Float32Array, n: number): Promise<Float32Array> {
    if (features.length !== n * this.dim) throw new Error(`expected ${n}×${this.dim} features, got ${features.length}`);
    const input = new ort.Tensor('float32', features, [n, this.dim]);
    const out = await this.session.run({ [INPUT_NAME]: input });
    const probs = out[OUTPUT_NAME];
    try {
      return probs.data as Float32Array;
    } finally {
      input.dispose?.();
    }
  }

  /** Class probabilities per text, in `labels` order (no threshold applied). */
  async probabilities(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const C = this.labels.length;
    const features = new Float32Array(texts.length * this.dim);
    texts.forEach((t, i) => writeDense(this.featurizer.featurize(t), features, i * this.dim));
    const flat = await this.run(features, texts.length);
    return texts.map((_, i) => flat.slice(i * C, (i + 1) * C));
  }

  async predict(text: string): Promise<Prediction> {
    return (await this.predictBatch([text]))[0];
  }

  async predictBatch(texts: readonly string[]): Promise<Prediction[]> {
    const all = await this.probabilities(texts);
    return all.map((p) => this.toPrediction(p));
  }

  /** Apply the decision rule (argmax, plus the oos threshold for intent) to one probability row. */
  toPrediction(probs: ArrayLike<number>): Prediction {
    const idx = decide(probs, this.labels, this.threshold);
    const label = this.labels[idx];
    let best = 0;
    for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
    const confidence = idx === best ? probs[idx] : 1 - probs[best];
    const scores = this.labels.map((l, i) => ({ label: l, score: probs[i] })).sort((a, b) => b.score - a.score);
    return { label, confidence, scores };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
