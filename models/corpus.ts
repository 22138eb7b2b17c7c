/** The project's own corpus: which files each task trains on, and which are only ever held out. */
import * as path from 'node:path';

export type Task = 'intent' | 'emotion';

export const CORPUS_DIR = path.join(__dirname, 'corpus');

/**
 * The training files per task, in the order they were written (the order matters: it is part of what makes
 * training reproducible). Their "split": "test" lines are the held-out test split.
 */
export const CORPUS: Record<Task, string[]> = {
  intent: ['intent.jsonl', 'intent-extra.jsonl', 'intent-extra2.jsonl', 'intent-extra3.jsonl', 'intent-extra4.jsonl'].map((f) => path.join(CORPUS_DIR, f)),
  emotion: [path.join(CORPUS_DIR, 'emotion.jsonl')],
};

/**
 * Held-out sets kept in files of their own (every line is held out, never trained on). Training does not
 * read them for anything but the leakage check: no training line may copy one of them.
 */
export const HELD_OUT_ONLY: Record<Task, string[]> = {
  intent: [path.join(CORPUS_DIR, 'intent-fresh-test.jsonl')],
  emotion: [],
};
