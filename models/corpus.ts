/** The project's own corpus: which files each task trains on, and which are only ever held out. */
import * as path from 'node:path';
import { type Example, loadJsonl } from './data';
import { dialogueTestTurns } from './leakage';

export type Task = 'intent' | 'emotion';

export const CORPUS_DIR = path.join(__dirname, 'corpus');

/**
 * The training files per task, in the order they were written (the order matters: it is part of what makes
 * training reproducible). Their "split": "test" lines are the held-out test split.
 */
export const CORPUS: Record<Task, string[]> = {
  intent: ['intent.jsonl', 'intent-extra.jsonl', 'intent-extra2.jsonl', 'intent-extra3.jsonl', 'intent-extra4.jsonl', 'intent-extra5.jsonl'].map((f) => path.join(CORPUS_DIR, f)),
  emotion: ['emotion.jsonl', 'emotion-extra.jsonl'].map((f) => path.join(CORPUS_DIR, f)),
};

/**
 * Held-out sets kept in files of their own (every line is held out, never trained on). Training does not
 * read them for anything but the leakage check: no training line may copy one of them.
 */
export const HELD_OUT_ONLY: Record<Task, string[]> = {
  intent: [path.join(CORPUS_DIR, 'intent-fresh-test.jsonl'), path.join(CORPUS_DIR, 'intent-acts-test.jsonl')],
  emotion: [path.join(CORPUS_DIR, 'emotion-mixed-test.jsonl')],
};

/** The multi-turn dialogue corpus (models/dialogues/README.md). */
export const DIALOGUES_FILE = path.join(__dirname, 'dialogues', 'dialogues.jsonl');

/**
 * Dialogue corpora whose test split is held out for a task: every user turn of a `"split": "test"` conversation
 * counts as a held-out line (see `dialogueTestTurns`), so no training line may copy or nearly copy one. Turns of
 * train conversations are not held out.
 */
export const HELD_OUT_DIALOGUES: Record<Task, string[]> = {
  intent: [DIALOGUES_FILE],
  emotion: [],
};

/** Every held-out line of a task outside its training files: the held-out-only files and the dialogue test turns. */
export function heldOutElsewhere(task: Task): Example[] {
  return [...HELD_OUT_ONLY[task].flatMap((f) => loadJsonl(f)), ...HELD_OUT_DIALOGUES[task].flatMap((f) => dialogueTestTurns(f))];
}
