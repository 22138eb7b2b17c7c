/**
 * Does a message continue the conversation's current topic? A small logistic model over signals the understanding
 * step already has (the intent model's probabilities, knowledge retrieval, the topic's detail-node match, the shape
 * of the message), learned from the multi-turn corpus (models/dialogues, train split) instead of hand-set rules.
 * Its weights are chart data (params.continuation), so a new fit is published as a chart version.
 *
 *   npm run train:continuation            # fit on the train split, print the weights and the validation figures
 *   npm run train:continuation -- --write # also write them into machines/charts/conversation.chart.json
 */
import { changesSubject, isQuestion } from '../common/text-cues';
import type { ContinuationWeights } from '../common/types';

/** Everything the features are computed from, for one message read inside `topic`. */
export interface ContinuationSignals {
  text: string;
  topic: string;
  /** Intent model probability per label (all labels, `oos` and meta acts included). */
  modelProb: ReadonlyMap<string, number>;
  /** Knowledge retrieval score per topic, 0..1. */
  retrieval: ReadonlyMap<string, number>;
  /** Best detail-node match of the current topic, 0..1. */
  detail: number;
}



/** The named features; names are what the chart stores, so a reader can see what each weight means. */
export function continuationFeatures(s: ContinuationSignals): Record<string, number> {
  let otherModel = 0;
  let metaModel = 0;
  for (const [label, p] of s.modelProb) {
    if (label === s.topic || label === 'oos') continue;
    if (label.startsWith('meta.')) metaModel = Math.max(metaModel, p);
    else otherModel = Math.max(otherModel, p);
  }
  let otherRetrieval = 0;
  for (const [intent, r] of s.retrieval) if (intent !== s.topic) otherRetrieval = Math.max(otherRetrieval, r);
  const length = [...s.text.replace(/\s+/g, '')].length;
  return {
    topicModel: s.modelProb.get(s.topic) ?? 0,
    topicRetrieval: s.retrieval.get(s.topic) ?? 0,
    topicDetail: s.detail,
    otherModel,
    // A linear model cannot tell "some other topic is possible" from "the model is sure it is another topic".
    otherSure: otherModel >= 0.8 ? 1 : 0,
    otherRetrieval,
    oosModel: s.modelProb.get('oos') ?? 0,
    metaModel,
    question: isQuestion(s.text) ? 1 : 0,
    switchMarker: changesSubject(s.text) ? 1 : 0,
    short: length <= 8 ? 1 : 0,
  };
}

/**
 * A neighbouring question in the same group that the intent model is sure about ("运费多少" → "能包邮吗"): the
 * conversation goes on (the order in context stays) but the question is that topic's, not a follow-up.
 */
export const SIBLING_SURE = 0.8;
export function confidentSibling(topic: string, modelProb: ReadonlyMap<string, number>): string | undefined {
  const group = topic.split('.')[0];
  for (const [label, p] of modelProb) if (label !== topic && label.startsWith(`${group}.`) && p >= SIBLING_SURE) return label;
  return undefined;
}

/** P(the message continues the topic). */
export function continuationProbability(w: ContinuationWeights, features: Record<string, number>): number {
  let z = w.bias;
  for (const [name, value] of Object.entries(features)) z += (w.weights[name] ?? 0) * value;
  return 1 / (1 + Math.exp(-z));
}

/** Plain batch gradient descent on the log loss with an L2 penalty: few features, a few hundred examples. */
export function fitContinuation(
  examples: ReadonlyArray<{ features: Record<string, number>; continues: boolean }>,
  { epochs = 3000, lr = 0.5, l2 = 1e-3 } = {},
): ContinuationWeights {
  const names = Object.keys(examples[0]?.features ?? {});
  const w = new Float64Array(names.length);
  let b = 0;
  const n = examples.length;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const gw = new Float64Array(names.length);
    let gb = 0;
    for (const ex of examples) {
      let z = b;
      names.forEach((name, i) => (z += w[i] * ex.features[name]));
      const err = 1 / (1 + Math.exp(-z)) - (ex.continues ? 1 : 0);
      names.forEach((name, i) => (gw[i] += err * ex.features[name]));
      gb += err;
    }
    names.forEach((_, i) => (w[i] -= lr * (gw[i] / n + l2 * w[i])));
    b -= lr * (gb / n);
  }
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { bias: round(b), weights: Object.fromEntries(names.map((name, i) => [name, round(w[i])])) };
}
