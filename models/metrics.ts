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
