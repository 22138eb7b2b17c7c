/**
 * Serving: load `<dir>/<task>.onnx` + `<dir>/<task>.json` and classify texts with onnxruntime-node.
 *
 *   const intent = await OnnxClassifier.load('models/artifacts', 'intent');
 *   const { label, confidence, scores } = await intent.predict('验证码收不到登录不了');
 *
 * On load the ONNX file's sha256 must match the metadata, the graph must parse, and a probe inference must
 * return one probability per label; otherwise load() throws an OnnxClassifierLoadError saying what is wrong.
 *
 * Calibration: when the metadata has `calibration.temperature` T (the emotion model), the graph's probabilities p
 * become softmax(log p / T) before anything else sees them (`probabilities`, `predict`, `predictBatch`); the label
 * is the same, the scores are calibrated. Metadata without it (the intent model, older files) means T = 1: the
 * graph's probabilities unchanged. `rawProbabilities` gives the graph's output as it is.
 *
 * Fused models (metadata `encoder`): the graph also takes the message's sentence embedding and has two heads.
 * Without an embedding, `predict` answers with the n-gram head (its own threshold and temperature, metadata
 * `cascade.ngram`); `settles(prediction)` says whether that answer is final (confidence ≥ `cascade.skipAbove`) or
 * the caller should encode the message and predict again with the embedding (the fused head).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { Featurizer, FEATURIZER_VERSION, type SparseVector } from './featurize';
import { decide } from './decision';
import { applyTemperature } from './calibration';
import { OOS_LABEL } from './data';
import { INPUT_EMBEDDING, INPUT_INDICES, INPUT_VALUES, METADATA_FORMAT, OUTPUT_NGRAM, METADATA_FORMAT_VERSION, OUTPUT_NAME, sha256, type ModelMetadata } from './model-format';

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

const Calibration = z.object({ method: z.literal('temperature'), temperature: z.number().positive().finite() }).passthrough();

/** One head's decision settings. */
interface HeadSettings {
  output: string;
  threshold: number | undefined;
  temperature: number;
}

const MetadataSchema = z.object({
  format: z.literal(METADATA_FORMAT),
  formatVersion: z.literal(METADATA_FORMAT_VERSION, { error: `only format version ${METADATA_FORMAT_VERSION} (sparse inputs) is supported; retrain with \`npm run train\`` }),
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
  calibration: Calibration.optional(),
  encoder: z.object({ id: z.string(), dim: z.number().int().positive() }).passthrough().optional(),
  cascade: z
    .object({ skipAbove: z.number().positive(), ngram: z.object({ threshold: z.number().min(0).max(1).nullable(), calibration: Calibration.optional() }).passthrough() })
    .passthrough()
    .optional(),
  onnx: z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), inputs: z.array(z.string()), output: z.string() }).passthrough(),
}).passthrough();

export interface LoadOptions {
  /** onnxruntime intra-op threads; 1 is fastest for single short messages. */
  threads?: number;
}

export class OnnxClassifier {
  readonly labels: readonly string[];
  readonly threshold: number | undefined;
  /** Calibration temperature applied to the graph's probabilities (1 when the metadata has none). */
  readonly temperature: number;
  readonly featurizer: Featurizer;
  readonly dim: number;
  /** The sentence encoder a fused model needs (`SentenceEncoder.id`), undefined for an n-gram model. */
  readonly encoderId: string | undefined;
  private readonly fused: HeadSettings;
  /** The head that answers without an embedding: the graph's only one, or a fused model's cascade head. */
  private readonly ngram: HeadSettings | undefined;

  private constructor(
    readonly task: string,
    readonly metadata: ModelMetadata,
    private readonly session: ort.InferenceSession,
  ) {
    this.labels = metadata.labels;
    this.threshold = metadata.threshold ?? undefined;
    this.temperature = metadata.calibration?.temperature ?? 1;
    this.featurizer = new Featurizer(metadata.featurizer);
    this.dim = metadata.dim;
    this.encoderId = metadata.encoder?.id;
    this.fused = { output: OUTPUT_NAME, threshold: this.threshold, temperature: this.temperature };
    const c = metadata.cascade;
    this.ngram = !metadata.encoder
      ? this.fused
      : c
        ? { output: OUTPUT_NGRAM, threshold: c.ngram.threshold ?? undefined, temperature: c.ngram.calibration?.temperature ?? 1 }
        : undefined;
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
    const inputs = [INPUT_INDICES, INPUT_VALUES, ...(meta.encoder ? [INPUT_EMBEDDING] : [])];
    const outputs = [OUTPUT_NAME, ...(meta.cascade ? [OUTPUT_NGRAM] : [])];
    if (!inputs.every((n) => session.inputNames.includes(n)) || !outputs.every((n) => session.outputNames.includes(n))) {
      await session.release();
      fail(`graph must have inputs [${inputs}] and outputs [${outputs}], has [${session.inputNames}] → [${session.outputNames}]`);
    }
    const clf = new OnnxClassifier(task, meta, session);
    // Probe: one empty message must give one probability per label (also warms the session up).
    let probe: Float32Array;
    try {
      const empty = { indices: new Int32Array(0), values: new Float32Array(0) };
      probe = await clf.run([empty], meta.encoder ? [new Float32Array(meta.encoder.dim)] : undefined);
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

  /**
   * Run the graph on a batch of sparse feature vectors → flat [n, C] probabilities of the fused head (with
   * `embeddings`) or of the head that needs none. A fused model's n-gram head is fed zero embeddings: it does
   * not read them.
   */
  async run(vectors: readonly SparseVector[], embeddings?: readonly Float32Array[]): Promise<Float32Array> {
    const head = this.headFor(embeddings);
    const batch = packBatch(vectors);
    const feeds: Record<string, ort.Tensor> = {
      [INPUT_INDICES]: new ort.Tensor('int64', batch.indices, [vectors.length, batch.width]),
      [INPUT_VALUES]: new ort.Tensor('float32', batch.values, [vectors.length, batch.width]),
    };
    if (this.encoderId) {
      const dim = this.metadata.encoder!.dim;
      const flat = new Float32Array(vectors.length * dim);
      embeddings?.forEach((e, i) => {
        if (e.length !== dim) throw new Error(`embedding ${i} has ${e.length} dimensions, the model takes ${dim}`);
        flat.set(e, i * dim);
      });
      feeds[INPUT_EMBEDDING] = new ort.Tensor('float32', flat, [vectors.length, dim]);
    }
    try {
      const out = await this.session.run(feeds, [head.output]);
      const data = out[head.output].data;
      if (!(data instanceof Float32Array)) throw new Error(`${head.output} is not float32`);
      return data;
    } finally {
      for (const t of Object.values(feeds)) t.dispose?.();
    }
  }

  private headFor(embeddings: readonly Float32Array[] | undefined): HeadSettings {
    if (embeddings && !this.encoderId) throw new Error(`the ${this.task} model takes no sentence embedding`);
    if (embeddings) return this.fused;
    if (!this.ngram) throw new Error(`the ${this.task} model needs the sentence embedding of every message (it has no n-gram head)`);
    return this.ngram;
  }

  /** The graph's own probabilities per text, in `labels` order, before calibration (no threshold applied). */
  async rawProbabilities(texts: readonly string[], embeddings?: readonly Float32Array[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const C = this.labels.length;
    const flat = await this.run(texts.map((t) => this.featurizer.featurize(t)), embeddings);
    return texts.map((_, i) => flat.slice(i * C, (i + 1) * C));
  }

  /** Calibrated class probabilities per text, in `labels` order (no threshold applied); raw when T = 1. */
  async probabilities(texts: readonly string[], embeddings?: readonly Float32Array[]): Promise<Float32Array[]> {
    const raw = await this.rawProbabilities(texts, embeddings);
    const { temperature } = this.headFor(embeddings);
    return temperature === 1 ? raw : raw.map((p) => Float32Array.from(applyTemperature(p, temperature)));
  }

  /** With `embedding` (fused models only) the fused head answers, without it the n-gram head. */
  async predict(text: string, embedding?: Float32Array): Promise<Prediction> {
    return (await this.predictBatch([text], embedding ? [embedding] : undefined))[0];
  }

  async predictBatch(texts: readonly string[], embeddings?: readonly Float32Array[]): Promise<Prediction[]> {
    const all = await this.probabilities(texts, embeddings);
    const head = this.headFor(embeddings);
    return all.map((p) => this.toPrediction(p, head.threshold));
  }

  /**
   * Whether a prediction made without an embedding is final: always for an n-gram model; for a fused model when
   * the n-gram head is confident enough (the cascade), else the message should be encoded.
   */
  settles(prediction: Prediction): boolean {
    const skipAbove = this.metadata.cascade?.skipAbove;
    return !this.encoderId || (skipAbove !== undefined && prediction.confidence >= skipAbove);
  }

  /** Apply the decision rule (argmax, plus the oos threshold for intent) to one probability row. */
  toPrediction(probs: ArrayLike<number>, threshold = this.threshold): Prediction {
    const idx = decide(probs, this.labels, threshold);
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

/**
 * The graph's two inputs for a batch: row-major [n, width] bucket ids and values, width = the longest vector
 * (at least 1). Short rows are padded with bucket 0 and value 0, which adds nothing to the sum.
 */
export function packBatch(vectors: readonly SparseVector[]): { indices: BigInt64Array; values: Float32Array; width: number } {
  const width = Math.max(1, ...vectors.map((v) => v.indices.length));
  const indices = new BigInt64Array(vectors.length * width);
  const values = new Float32Array(vectors.length * width);
  vectors.forEach((v, row) => {
    for (let k = 0; k < v.indices.length; k++) {
      indices[row * width + k] = BigInt(v.indices[k]);
      values[row * width + k] = v.values[k];
    }
  });
  return { indices, values, width };
}
