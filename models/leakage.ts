/**
 * Held-out lines must not be trained on, not even as near-copies: a model that saw a test line (or the same
 * sentence with a different particle or punctuation) scores it like a training line, and the held-out figure
 * stops measuring new wording. A train line leaks when, in the form below, it equals a held-out line of the
 * same task or shares most of its character bigrams with one (Jaccard ≥ LEAK_MIN_JACCARD).
 */

import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const LEAK_MIN_JACCARD = 0.7;

/** The form lines are compared in: NFKC, lower case, no whitespace or punctuation. */
export function comparisonForm(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[\s\p{P}]/gu, '');
}

/** Character bigrams of a comparison form (a one-character form is its own "bigram"). */
function bigrams(form: string): string[] {
  const chars = Array.from(form);
  if (chars.length === 1) return chars;
  const out = new Set<string>();
  for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i] + chars[i + 1]);
  return [...out];
}

interface Leak<T> {
  train: T;
  /** The most similar held-out line. */
  heldOut: T;
  /** Bigram Jaccard similarity; 1 for lines equal in comparison form. */
  similarity: number;
}

/**
 * The train lines that leak a held-out line, each with its closest held-out line. An inverted index from
 * bigram to held-out lines means each train line is only compared with the held-out lines it shares a
 * bigram with (about 20× faster than comparing all pairs on the corpus).
 */
export function findLeaks<T extends { text: string }>(train: readonly T[], heldOut: readonly T[], minJaccard = LEAK_MIN_JACCARD): Leak<T>[] {
  const byForm = new Map<string, number>();
  const heldOutSize: number[] = [];
  const postings = new Map<string, number[]>();
  heldOut.forEach((line, j) => {
    const form = comparisonForm(line.text);
    if (!byForm.has(form)) byForm.set(form, j);
    const grams = bigrams(form);
    heldOutSize.push(grams.length);
    for (const g of grams) {
      const list = postings.get(g);
      if (list) list.push(j);
      else postings.set(g, [j]);
    }
  });
  const shared = new Int32Array(heldOut.length);
  const touched: number[] = [];
  const leaks: Leak<T>[] = [];
  for (const line of train) {
    const form = comparisonForm(line.text);
    const same = byForm.get(form);
    if (same !== undefined) {
      leaks.push({ train: line, heldOut: heldOut[same], similarity: 1 });
      continue;
    }
    const grams = bigrams(form);
    for (const g of grams) {
      for (const j of postings.get(g) ?? []) {
        if (shared[j]++ === 0) touched.push(j);
      }
    }
    let best = -1;
    let bestSim = 0;
    for (const j of touched) {
      const sim = shared[j] / (grams.length + heldOutSize[j] - shared[j]);
      if (sim > bestSim) {
        bestSim = sim;
        best = j;
      }
      shared[j] = 0;
    }
    touched.length = 0;
    if (best >= 0 && bestSim >= minJaccard) leaks.push({ train: line, heldOut: heldOut[best], similarity: bestSim });
  }
  return leaks;
}

/** The leaks as lines for an error message: each train line with the held-out line it copies, then a count per file. */
export function describeLeaks(leaks: readonly Leak<{ text: string; origin?: string }>[], maxListed = 100): string {
  const where = (line: { text: string; origin?: string }) => `${line.origin ? `${line.origin} ` : ''}${JSON.stringify(line.text)}`;
  const listed = leaks.slice(0, maxListed).map((l) => `  ${where(l.train)} ${l.similarity === 1 ? '=' : `≈ (${l.similarity.toFixed(2)})`} held-out ${where(l.heldOut)}`);
  if (leaks.length > maxListed) listed.push(`  … and ${leaks.length - maxListed} more`);
  const perFile = new Map<string, number>();
  for (const l of leaks) {
    const file = l.train.origin?.replace(/:\d+$/, '') ?? '(no file)';
    perFile.set(file, (perFile.get(file) ?? 0) + 1);
  }
  return `${listed.join('\n')}\nper file: ${[...perFile].map(([f, n]) => `${f} ${n}`).join(', ')}`;
}

/** A user turn of a held-out conversation, as a held-out line: its text, its intent in context, and where it is. */
export interface HeldOutTurn {
  text: string;
  label: string;
  origin: string;
}

/**
 * Every user turn of the `"split": "test"` conversations of a dialogue corpus (models/dialogues/dialogues.jsonl:
 * one conversation per line, `{"id", "split", "turns": [{"text", "label": {"intent", …}}, …]}`). The dialogue test
 * split measures understanding in context; a single-message training line that copies one of its turns would make
 * that figure a test of memory, so these turns are held out for the intent task like the corpus's own test lines.
 * Train-split conversations are not returned. A line that is not a conversation throws, naming file and line.
 */
export function dialogueTestTurns(file: string): HeldOutTurn[] {
  const shown = path.relative(process.cwd(), file) || file;
  const out: HeldOutTurn[] = [];
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${shown}:${i + 1}`;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (e) {
        throw new Error(`${where}: invalid JSON (${(e as Error).message})`);
      }
      const { id, split, turns } = (obj ?? {}) as { id?: unknown; split?: unknown; turns?: unknown };
      if (split !== 'train' && split !== 'test') throw new Error(`${where}: a conversation needs "split": "train" or "test", got ${JSON.stringify(split)}`);
      if (!Array.isArray(turns) || turns.length === 0) throw new Error(`${where}: a conversation needs a non-empty "turns" array`);
      if (split !== 'test') return;
      turns.forEach((turn: { text?: unknown; label?: { intent?: unknown } }, k) => {
        if (typeof turn?.text !== 'string' || turn.text.trim() === '') throw new Error(`${where}: turn ${k + 1} needs a non-empty "text"`);
        const label = typeof turn.label?.intent === 'string' ? turn.label.intent : '';
        out.push({ text: turn.text, label, origin: `${where} ${typeof id === 'string' ? id : 'conversation'} turn ${k + 1}` });
      });
    });
  return out;
}
