/** Choice of the intent model's out-of-scope threshold on out-of-fold validation probabilities. */
import { decide } from './decision';
import { oosReport, type OosReport } from './metrics';

interface ThresholdChoice {
  threshold: number;
  objective: number;
  oos: OosReport;
  accuracy: number;
}

/**
 * Choose the oos threshold on validation probabilities. Objective:
 *   0.5 · (in-scope accuracy) + 0.5 · (oos recall)
 * i.e. balanced accuracy between the in-scope block and oos, so oos (≈ 10% of traffic) is not drowned out.
 * Candidates 0.00..0.95 in steps of 0.01. The objective is usually flat near its maximum, so instead of the
 * single arg-max (which jitters with the data) take the middle of the candidates scoring within
 * `tolerance` of the best.
 */
export function chooseThreshold(probs: readonly Float64Array[], gold: readonly string[], labels: readonly string[], tolerance = 0.0025): ThresholdChoice {
  const candidates: ThresholdChoice[] = [];
  for (let t100 = 0; t100 <= 95; t100++) {
    const t = t100 / 100;
    const pred = probs.map((p) => labels[decide(p, labels, t)]);
    const oos = oosReport(gold, pred, t);
    const objective = 0.5 * oos.inScopeAccuracy + 0.5 * oos.oosRecall;
    let correct = 0;
    for (let i = 0; i < gold.length; i++) if (pred[i] === gold[i]) correct++;
    candidates.push({ threshold: t, objective, oos, accuracy: correct / gold.length });
  }
  const best = Math.max(...candidates.map((c) => c.objective));
  const near = candidates.filter((c) => c.objective >= best - tolerance);
  return near[Math.floor((near.length - 1) / 2)];
}
