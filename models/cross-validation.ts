/**
 * Cross-validation on the train split: near-duplicate groups and grouped, label-stratified folds, so that a
 * validation fold looks like new wording rather than paraphrases of lines its model was trained on.
 */
import type { Example } from './data';
import { mulberry32, shuffleInPlace } from './random';

function bigramSet(text: string): Set<string> {
  const chars = Array.from(text.normalize('NFKC').toLowerCase().replace(/\s+/g, ''));
  const s = new Set<string>();
  if (chars.length === 1) s.add(chars[0]);
  for (let i = 0; i + 1 < chars.length; i++) s.add(chars[i] + chars[i + 1]);
  return s;
}

/**
 * Group ids such that same-label texts whose character-bigram Jaccard similarity is ≥ `minJaccard`
 * (transitively, up to `maxGroupSize` members) share a group. Used to keep paraphrase clusters inside one
 * CV fold.
 */
function nearDuplicateGroups(items: readonly { text: string; label: string }[], minJaccard = 0.5, maxGroupSize = 10): number[] {
  const parent = items.map((_, i) => i);
  const size = items.map(() => 1);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const sets = items.map((it) => bigramSet(it.text));
  const byLabel = new Map<string, number[]>();
  items.forEach((it, i) => {
    const l = byLabel.get(it.label) ?? [];
    l.push(i);
    byLabel.set(it.label, l);
  });
  for (const ids of byLabel.values()) {
    const postings = new Map<string, number[]>();
    for (const i of ids) {
      const shared = new Map<number, number>();
      for (const bg of sets[i]) {
        const list = postings.get(bg);
        if (list) for (const j of list) shared.set(j, (shared.get(j) ?? 0) + 1);
      }
      for (const [j, s] of shared) {
        const jac = s / (sets[i].size + sets[j].size - s);
        if (jac < minJaccard) continue;
        const a = find(i);
        const b = find(j);
        // Cap the size so that chains of paraphrases ("谢谢", "谢谢你", "多谢", …) do not swallow a whole label.
        if (a !== b && size[a] + size[b] <= maxGroupSize) {
          parent[a] = b;
          size[b] += size[a];
        }
      }
      for (const bg of sets[i]) {
        const list = postings.get(bg) ?? [];
        list.push(i);
        postings.set(bg, list);
      }
    }
  }
  return items.map((_, i) => find(i));
}

/**
 * For each item, the highest character-bigram Jaccard similarity to any item in a *different* fold (any
 * label). Validation items with a low value are "new wording" relative to what their model was trained
 * on, like the hand-written test split.
 */
export function maxSimilarityToOtherFolds(items: readonly { text: string }[], foldOf: readonly number[]): Float64Array {
  const sets = items.map((it) => bigramSet(it.text));
  const postings = new Map<string, number[]>();
  sets.forEach((set, i) => {
    for (const bg of set) {
      const l = postings.get(bg) ?? [];
      l.push(i);
      postings.set(bg, l);
    }
  });
  const out = new Float64Array(items.length);
  const shared = new Int32Array(items.length);
  const seen: number[] = [];
  for (let i = 0; i < items.length; i++) {
    for (const bg of sets[i]) {
      for (const j of postings.get(bg)!) {
        if (foldOf[j] === foldOf[i]) continue;
        if (shared[j] === 0) seen.push(j);
        shared[j]++;
      }
    }
    let best = 0;
    for (const j of seen) {
      const jac = shared[j] / (sets[i].size + sets[j].size - shared[j]);
      if (jac > best) best = jac;
      shared[j] = 0;
    }
    seen.length = 0;
    out[i] = best;
  }
  return out;
}

/**
 * Assign each item a fold in [0, k): whole groups per fold, balanced per label (largest groups first,
 * each into the fold with the fewest items of that label so far). Seeded.
 */
function groupedStratifiedFolds(items: readonly { label: string }[], groups: readonly number[], k: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const fold = new Array<number>(items.length).fill(0);
  const groupMembers = new Map<number, number[]>();
  groups.forEach((g, i) => {
    const l = groupMembers.get(g) ?? [];
    l.push(i);
    groupMembers.set(g, l);
  });
  const groupsByLabel = new Map<string, number[][]>();
  for (const members of groupMembers.values()) {
    const label = items[members[0]].label;
    const l = groupsByLabel.get(label) ?? [];
    l.push(members);
    groupsByLabel.set(label, l);
  }
  for (const label of [...groupsByLabel.keys()].sort()) {
    const gs = shuffleInPlace(groupsByLabel.get(label)!, rand);
    gs.sort((a, b) => b.length - a.length); // stable: ties keep the shuffled order
    const load = new Array<number>(k).fill(0);
    for (const members of gs) {
      let f = 0;
      for (let j = 1; j < k; j++) if (load[j] < load[f]) f = j;
      for (const i of members) fold[i] = f;
      load[f] += members.length;
    }
  }
  return fold;
}

/** Fold id per train item: grouped stratified k-fold, or (k = 1) a single stratified 10% slice as fold 0. */
export function validationFolds(train: readonly Example[], folds: number, seed: number): number[] {
  if (folds >= 2) return groupedStratifiedFolds(train, nearDuplicateGroups(train), folds, seed);
  // Single slice: fold 0 = validation (≈10% per label, groups kept together), fold 1 = fit.
  const tenFold = groupedStratifiedFolds(train, nearDuplicateGroups(train), 10, seed);
  return tenFold.map((f) => (f === 0 ? 0 : 1));
}
