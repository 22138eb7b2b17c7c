/**
 * Labelled JSONL data: loading with line-by-line checks, and the reproducible train/test split that training
 * and evaluation share. The format is documented in models/README.md ("Data format").
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { findLeaks } from './leakage';
import { mulberry32, shuffleInPlace } from './random';

export const OOS_LABEL = 'oos';
/** Share of each label held out as test when no line of the data has a "split". */
export const HOLD_OUT_FRACTION = 0.1;
/** Below this many training lines a label is learnt from too little to be trusted. */
export const MIN_TRAIN_PER_LABEL = 5;

export interface Example {
  text: string;
  label: string;
  split?: 'train' | 'test';
  /** "file:line" it was read from, for messages. */
  origin?: string;
}

/** A data file as recorded in the model metadata: the path relative to the repository, and its hash. */
export interface DataFile {
  path: string;
  sha256: string;
}

const REPO_ROOT = path.join(__dirname, '..');

/** The path to record for a data file (relative to the repository root, so metadata stays portable). */
function recordedPath(file: string): string {
  return path.relative(REPO_ROOT, path.resolve(file));
}

/** A recorded path back to a file on this machine. */
export function resolveRecordedPath(recorded: string): string {
  return path.resolve(REPO_ROOT, recorded);
}

function shownValue(value: unknown): string {
  return value === undefined ? 'nothing' : `${typeof value} ${JSON.stringify(value)}`;
}

/** Why one parsed JSONL line is not an example, or undefined when it is one. */
function lineProblem(obj: unknown): string | undefined {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return `expected an object {"text", "label", "split"?}, got ${shownValue(obj)}`;
  const { text, label, split } = obj as Record<string, unknown>;
  if (typeof text !== 'string' || text.trim() === '') return `"text" must be a non-empty string, got ${shownValue(text)}`;
  if (typeof label !== 'string' || label.trim() === '') return `"label" must be a non-empty string, got ${shownValue(label)}`;
  if (split !== undefined && split !== 'train' && split !== 'test') return `"split" must be "train" or "test" (or absent), got ${shownValue(split)}`;
  return undefined;
}

/** Parse a JSONL file of {"text","label","split"?}. Blank lines are skipped; a bad line throws naming file and line. */
export function loadJsonl(file: string): Example[] {
  const shown = path.relative(process.cwd(), file) || file;
  const out: Example[] = [];
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (e) {
        throw new Error(`${shown}:${i + 1}: invalid JSON (${(e as Error).message})`);
      }
      const problem = lineProblem(obj);
      if (problem) throw new Error(`${shown}:${i + 1}: ${problem}`);
      const { text, label, split } = obj as Example;
      out.push({ text, label, ...(split ? { split } : {}), origin: `${shown}:${i + 1}` });
    });
  if (out.length === 0) throw new Error(`${shown}: no examples`);
  return out;
}

/** Load several files (e.g. `--data a.jsonl,b.jsonl`) with their records for the metadata. */
export function loadFiles(files: readonly string[]): { examples: Example[]; files: DataFile[] } {
  return {
    examples: files.flatMap((f) => loadJsonl(f)),
    files: files.map((f) => ({ path: recordedPath(f), sha256: createHash('sha256').update(readFileSync(f)).digest('hex') })),
  };
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

interface TrainTestSplit {
  train: Example[];
  test: Example[];
  splitSource: 'file' | 'seeded';
  /** Seeded split only: train lines dropped because they copy or nearly copy a held-out line. */
  droppedAsLeaks: Example[];
}

/**
 * Train/test as the trainer uses it. When any line has a "split", the file decides: "test" lines are held out,
 * all others are train. Otherwise a seeded, stratified `fraction` of each label is held out, and the train
 * lines that (nearly) copy a held-out line are dropped, since a data set of real logs repeats itself and a
 * copy in train would make the hold-out a test of memory.
 */
export function trainTestSplit(examples: readonly Example[], seed: number, fraction = HOLD_OUT_FRACTION): TrainTestSplit {
  if (examples.some((e) => e.split !== undefined)) {
    return { train: examples.filter((e) => e.split !== 'test'), test: examples.filter((e) => e.split === 'test'), splitSource: 'file', droppedAsLeaks: [] };
  }
  const { rest, heldOut } = stratifiedSplit(examples, fraction, seed);
  const leaking = new Set(findLeaks(rest, heldOut).map((l) => l.train));
  return { train: rest.filter((e) => !leaking.has(e)), test: heldOut, splitSource: 'seeded', droppedAsLeaks: [...leaking] };
}

/** Lines per label, labels sorted. */
export function labelCounts(examples: readonly { label: string }[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const e of examples) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Warnings about labels a model learnt from too few lines, or that it never saw but is tested on. */
export function labelWarnings(trainCounts: Readonly<Record<string, number>>, test: readonly { label: string }[]): string[] {
  const warnings: string[] = [];
  const few = Object.entries(trainCounts).filter(([, n]) => n < MIN_TRAIN_PER_LABEL);
  if (few.length > 0) {
    warnings.push(`${few.length} label(s) have fewer than ${MIN_TRAIN_PER_LABEL} training lines, too few to learn from: ${few.map(([l, n]) => `${l} (${n})`).join(', ')}`);
  }
  const unseen = Object.entries(labelCounts(test)).filter(([l]) => !(l in trainCounts));
  if (unseen.length > 0) {
    warnings.push(`${unseen.length} test label(s) never occur in training, so every such line counts as an error: ${unseen.map(([l, n]) => `${l} (${n} lines)`).join(', ')}`);
  }
  return warnings;
}
