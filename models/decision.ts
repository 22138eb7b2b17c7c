/** The out-of-scope rule shared by training (threshold choice), evaluation and serving. */
import { OOS_LABEL } from './data';

/**
 * Index of the predicted label. Without an "oos" label (or with threshold ≤ 0) it is the argmax.
 * With "oos": the argmax over all labels, except that an in-scope argmax whose probability is below
 * `threshold` becomes "oos" (so "oos" is predicted when the best in-scope probability < threshold,
 * or when "oos" itself is the most probable label).
 */
export function decide(probs: ArrayLike<number>, labels: readonly string[], threshold: number | undefined): number {
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
  if (threshold === undefined || threshold <= 0) return best;
  const oos = labels.indexOf(OOS_LABEL);
  if (oos < 0 || best === oos) return best;
  return probs[best] < threshold ? oos : best;
}
