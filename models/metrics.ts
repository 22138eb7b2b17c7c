/** Classification metrics shared by train.ts (validation) and evaluate.ts (test). */
import { OOS_LABEL } from './data';

export interface ClassReport {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ConfusionPair {
  gold: string;
  predicted: string;
  count: number;
}

export interface ClassificationReport {
  n: number;
  accuracy: number;
  macroF1: number;
  perClass: ClassReport[];
  topConfusions: ConfusionPair[];
}

export interface OosReport {
  threshold: number;
  /** Share of gold "oos" predicted "oos". */
  oosRecall: number;
  /** Share of gold in-scope predicted "oos" (false rejections). */
  inScopeFalseRejectionRate: number;
  /** Accuracy over gold in-scope examples only. */
  inScopeAccuracy: number;
  oosSupport: number;
  inScopeSupport: number;
}

export function classificationReport(labels: readonly string[], gold: readonly string[], pred: readonly string[], topK = 10): ClassificationReport {
  if (gold.length !== pred.length) throw new Error('gold/pred length mismatch');
  const tp = new Map<string, number>();
  const predCount = new Map<string, number>();
  const goldCount = new Map<string, number>();
  const pairs = new Map<string, number>();
  let correct = 0;
  for (let i = 0; i < gold.length; i++) {
    goldCount.set(gold[i], (goldCount.get(gold[i]) ?? 0) + 1);
    predCount.set(pred[i], (predCount.get(pred[i]) ?? 0) + 1);
    if (gold[i] === pred[i]) {
      correct++;
      tp.set(gold[i], (tp.get(gold[i]) ?? 0) + 1);
    } else {
      const key = `${gold[i]}\u0000${pred[i]}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
  }
  const allLabels = [...new Set([...labels, ...goldCount.keys()])];
  const perClass: ClassReport[] = [];
  for (const label of allLabels) {
    const support = goldCount.get(label) ?? 0;
    if (support === 0) continue; // macro-F1 over labels present in the evaluated data
    const t = tp.get(label) ?? 0;
    const p = predCount.get(label) ?? 0;
    const precision = p === 0 ? 0 : t / p;
    const recall = t / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass.push({ label, precision, recall, f1, support });
  }
  const macroF1 = perClass.length === 0 ? 0 : perClass.reduce((s, c) => s + c.f1, 0) / perClass.length;
  const topConfusions = [...pairs.entries()]
    .map(([k, count]) => {
      const [g, p] = k.split('\u0000');
      return { gold: g, predicted: p, count };
    })
    .sort((a, b) => b.count - a.count || a.gold.localeCompare(b.gold) || a.predicted.localeCompare(b.predicted))
    .slice(0, topK);
  return { n: gold.length, accuracy: gold.length === 0 ? 0 : correct / gold.length, macroF1, perClass, topConfusions };
}

export function oosReport(gold: readonly string[], pred: readonly string[], threshold: number): OosReport {
  let oos = 0;
  let oosHit = 0;
  let ins = 0;
  let insRejected = 0;
  let insCorrect = 0;
  for (let i = 0; i < gold.length; i++) {
    if (gold[i] === OOS_LABEL) {
      oos++;
      if (pred[i] === OOS_LABEL) oosHit++;
    } else {
      ins++;
      if (pred[i] === OOS_LABEL) insRejected++;
      if (pred[i] === gold[i]) insCorrect++;
    }
  }
  return {
    threshold,
    oosRecall: oos === 0 ? NaN : oosHit / oos,
    inScopeFalseRejectionRate: ins === 0 ? NaN : insRejected / ins,
    inScopeAccuracy: ins === 0 ? NaN : insCorrect / ins,
    oosSupport: oos,
    inScopeSupport: ins,
  };
}

/** Percentile (0..100) of a numeric sample, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** The emotion labels that count as a negative reading (what compensation and escalation act on). */
export const NEGATIVE_EMOTIONS: readonly string[] = ['anxious', 'angry', 'disappointed'];
/** The emotion labels on which a negative reading is a false alarm. */
export const NON_NEGATIVE_EMOTIONS: readonly string[] = ['positive', 'neutral'];

export interface FalseAlarmReport {
  /** Share of gold positive/neutral lines read as a negative emotion (with confidence ≥ minConfidence). */
  rate: number;
  alarms: number;
  /** Gold positive/neutral lines. */
  support: number;
  /** The same per gold label (positive, neutral). */
  perLabel: Array<{ label: string; alarms: number; support: number; rate: number }>;
  /** Share of gold negative lines read as some negative emotion (with confidence ≥ minConfidence). */
  negativeRecall: number;
  negativeSupport: number;
  minConfidence: number;
}

/**
 * False alarms of an emotion model: gold positive/neutral lines read as anxious/angry/disappointed, optionally only
 * counting readings whose confidence is at least `minConfidence` (a "confident negative reading"); and, at the same
 * confidence, the share of gold negative lines that are read as negative at all.
 */
export function falseAlarmReport(gold: readonly string[], pred: readonly string[], confidence: readonly number[], minConfidence = 0): FalseAlarmReport {
  const negative = new Set(NEGATIVE_EMOTIONS);
  const flagged = (i: number) => negative.has(pred[i]) && confidence[i] >= minConfidence;
  const perLabel = NON_NEGATIVE_EMOTIONS.map((label) => {
    const idx = gold.flatMap((g, i) => (g === label ? [i] : []));
    const alarms = idx.filter(flagged).length;
    return { label, alarms, support: idx.length, rate: idx.length === 0 ? NaN : alarms / idx.length };
  });
  const alarms = perLabel.reduce((s, p) => s + p.alarms, 0);
  const support = perLabel.reduce((s, p) => s + p.support, 0);
  const negIdx = gold.flatMap((g, i) => (negative.has(g) ? [i] : []));
  return {
    rate: support === 0 ? NaN : alarms / support,
    alarms,
    support,
    perLabel,
    negativeRecall: negIdx.length === 0 ? NaN : negIdx.filter(flagged).length / negIdx.length,
    negativeSupport: negIdx.length,
    minConfidence,
  };
}
