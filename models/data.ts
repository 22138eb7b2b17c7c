/** Loading labelled JSONL and making reproducible train/validation/test splits. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { mulberry32, shuffleInPlace } from './random';

export const OOS_LABEL = 'oos';

export interface Example {
  text: string;
  label: string;
  split?: 'train' | 'test';
}

const LineSchema = z.object({
  text: z.string().min(1),
  label: z.string().min(1),
  split: z.enum(['train', 'test']).optional(),
});

/** Parse a JSONL file of {"text","label","split"?}. Blank lines are skipped; bad lines throw with the line number. */
export function loadJsonl(file: string): Example[] {
  const raw = readFileSync(file, 'utf8');
  const out: Example[] = [];
  raw.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: invalid JSON (${(e as Error).message})`);
    }
    const parsed = LineSchema.safeParse(obj);
    if (!parsed.success) {
      throw new Error(`${file}:${i + 1}: expected {"text": string, "label": string, "split"?: "train"|"test"}: ${parsed.error.issues.map((x) => `${x.path.join('.')} ${x.message}`).join('; ')}`);
    }
    out.push(parsed.data);
  });
  if (out.length === 0) throw new Error(`${file}: no examples`);
  return out;
}

/**
 * Stratified, seeded split of `items` into (rest, heldOut) with about `fraction` of every label held out
 * (at least one per label when the label has ≥ 2 examples).
 */
export function stratifiedSplit<T extends { label: string }>(items: readonly T[], fraction: number, seed: number): { rest: T[]; heldOut: T[] } {
  const byLabel = new Map<string, T[]>();
  for (const it of items) {
    const list = byLabel.get(it.label) ?? [];
    list.push(it);
    byLabel.set(it.label, list);
  }
  const rand = mulberry32(seed);
  const rest: T[] = [];
  const heldOut: T[] = [];
  for (const label of [...byLabel.keys()].sort()) {
    const list = shuffleInPlace([...byLabel.get(label)!], rand);
    const k = list.length >= 2 ? Math.max(1, Math.round(list.length * fraction)) : 0;
    heldOut.push(...list.slice(0, k));
    rest.push(...list.slice(k));
  }
  return { rest, heldOut };
}

/**
 * Train/test from a JSONL: uses the "split" field when any line has one; otherwise holds out a seeded,
 * stratified 10% as test.
 */
export function trainTestSplit(examples: readonly Example[], seed: number): { train: Example[]; test: Example[]; splitSource: 'file' | 'seeded-10pct' } {
  if (examples.some((e) => e.split !== undefined)) {
    return {
      train: examples.filter((e) => e.split !== 'test'),
      test: examples.filter((e) => e.split === 'test'),
      splitSource: 'file',
    };
  }
  const { rest, heldOut } = stratifiedSplit(examples, 0.1, seed);
  return { train: rest, test: heldOut, splitSource: 'seeded-10pct' };
}
