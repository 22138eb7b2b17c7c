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
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { Featurizer, FEATURIZER_VERSION, type SparseVector } from './featurize';
import { decide } from './decision';
import { applyTemperature } from './calibration';
import { OOS_LABEL } from './data';
import { INPUT_INDICES, INPUT_VALUES, METADATA_FORMAT, METADATA_FORMAT_VERSION, OUTPUT_NAME, sha256, type ModelMetadata } from './model-format';

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
  calibration: z.object({ method: z.literal('temperature'), temperature: z.number().positive().finite() }).passthrough().optional(),
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
    if (![INPUT_INDICES, INPUT_VALUES].every((n) => session.inputNames.includes(n)) || !session.outputNames.includes(OUTPUT_NAME)) {
      await session.release();
      fail(`graph must have inputs "${INPUT_INDICES}", "${INPUT_VALUES}" and output "${OUTPUT_NAME}", has [${session.inputNames}] → [${session.outputNames}]`);
    }
    const clf = new OnnxClassifier(task, meta, session);
    // Probe: one empty message must give one probability per label (also warms the session up).
    let probe: Float32Array;
    try {
      probe = await clf.run([{ indices: new Int32Array(0), values: new Float32Array(0) }]);
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

  /** Run the graph on a batch of sparse feature vectors → flat [n, C] probabilities. */
  async run(vectors: readonly SparseVector[]): Promise<Float32Array> {
    const batch = packBatch(vectors);
    const indices = new ort.Tensor('int64', batch.indices, [vectors.length, batch.width]);
    const values = new ort.Tensor('float32', batch.values, [vectors.length, batch.width]);
    try {
      const out = await this.session.run({ [INPUT_INDICES]: indices, [INPUT_VALUES]: values });
      return out[OUTPUT_NAME].data as Float32Array;
    } finally {
      indices.dispose?.();
      values.dispose?.();
    }
  }

  /** The graph's own probabilities per text, in `labels` order, before calibration (no threshold applied). */
  async rawProbabilities(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const C = this.labels.length;
    const flat = await this.run(texts.map((t) => this.featurizer.featurize(t)));
    return texts.map((_, i) => flat.slice(i * C, (i + 1) * C));
  }

  /** Calibrated class probabilities per text, in `labels` order (no threshold applied); raw when T = 1. */
  async probabilities(texts: readonly string[]): Promise<Float32Array[]> {
    const raw = await this.rawProbabilities(texts);
    return this.temperature === 1 ? raw : raw.map((p) => Float32Array.from(applyTemperature(p, this.temperature)));
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
