/**
 * What the exporter writes and the serving classifier reads: the graph's input/output names, the metadata
 * file's format, and the file hash. Kept apart from onnx-export.ts so that serving does not load the exporter.
 */
import { createHash } from 'node:crypto';
import type { CalibrationInfo } from './calibration';
import type { CascadeInfo } from './cascade';
import type { FeaturizerSettings } from './featurize';
import type { TrainedModel } from './train-task';

export const INPUT_INDICES = 'indices';
export const INPUT_VALUES = 'values';
export const OUTPUT_NAME = 'probabilities';
/** Fused models: the sentence embedding input, and the cascade's n-gram-only output and its initializer prefix. */
export const INPUT_EMBEDDING = 'embedding';
export const OUTPUT_NGRAM = 'ngram_probabilities';
export const NGRAM_PREFIX = 'ngram_';
export const METADATA_FORMAT = 'durable-cs/text-classifier';
/** 2: sparse (indices, values) inputs. Version 1 files (dense "features" input) must be retrained. */
export const METADATA_FORMAT_VERSION = 2;

/** Contents of `<task>.json`. */
export interface ModelMetadata {
  format: typeof METADATA_FORMAT;
  formatVersion: number;
  task: string;
  labels: string[];
  dim: number;
  featurizer: FeaturizerSettings;
  /** Intent only: predict "oos" when the best in-scope probability is below this. */
  threshold: number | null;
  /**
   * Emotion only: the temperature serving divides the logits by (classifier.ts) and how it was fitted. Absent =
   * temperature 1 (the intent model, and files written before calibration).
   */
  calibration?: CalibrationInfo;
  model: { type: 'softmax-regression' | 'mlp'; hidden: number; parameters: number };
  /**
   * Fused models only: the sentence encoder whose embedding is the graph's "embedding" input (serving refuses
   * another build), and the cascade — the n-gram-only head ("ngram_probabilities") answers alone when its
   * confidence reaches `skipAbove`, else the message is encoded and the fused head answers.
   */
  encoder?: { model: string; id: string; dim: number; weight: number; kind: 'query' };
  cascade?: CascadeInfo;
  onnx: { file: string; sha256: string; bytes: number; opset: number; irVersion: number; inputs: string[]; output: string; ngramOutput?: string };
  training: { options: TrainedModel['options']; data: TrainedModel['data']; seconds: number };
  metrics: TrainedModel['metrics'];
  createdAt: string;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
