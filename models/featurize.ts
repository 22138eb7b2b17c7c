/**
 * The one text featurizer shared by training (models/train.ts) and serving (models/classifier.ts).
 *
 * Pipeline:
 *   1. normalise: Unicode NFKC (full-width → half-width, compatibility forms), lowercase,
 *      whitespace runs → one space, trimmed; long digit runs (order/phone numbers) → one NUM_CHAR.
 *   2. tokens: character n-grams (default 1..3) over the normalised text wrapped in boundary
 *      markers, optionally plus jieba words.
 *   3. hashing trick: every token (prefixed with its kind) → FNV-1a 32-bit → index mod `dim`.
 *   4. sublinear tf (1 + ln tf) per hashed bucket, then L2 normalisation of the whole vector.
 *
 * The settings are stored in each model's metadata (`<task>.json`), and serving rebuilds the
 * featurizer from those settings, so a model is always fed exactly the features it was trained on.
 */
import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict';
import { LEXICON_HASH, matchConcepts } from './lexicon';

/** Bump when the meaning of any setting or the token/hash scheme changes. */
export const FEATURIZER_VERSION = 'hashed-ngrams-v1';

export interface FeaturizerSettings {
  version: string;
  /** Hashed feature dimension; must be a power of two. */
  dim: number;
  /** Character n-gram orders, e.g. [1, 2, 3]. */
  charNgrams: number[];
  /** Add jieba words (HMM on) as extra tokens: "cut" = one segmentation, "search" = also the sub-words of long words, "off" = none. */
  words: 'off' | 'cut' | 'search';
  /** Add character skip-bigrams (c[i], c[i+2]). */
  skipBigrams: boolean;
  /** Digit runs of at least this many digits collapse to NUM_CHAR / the "<num>" word; 0 disables. */
  numMinDigits: number;
  /**
   * Add a "k:<concept>" token per concept of the hand-written domain lexicon (models/lexicon.ts) found in
   * the text. Holds LEXICON_HASH of the table the model was trained with, or null for no lexicon features.
   */
  lexicon: string | null;
  /** Term count given to each matched concept token (relative weight against the n-grams). */
  lexiconWeight: number;
  /** Vector normalisation after sublinear tf: "l2" (unit length) or "none". */
  norm: 'l2' | 'none';
}

export const DEFAULT_FEATURIZER: FeaturizerSettings = {
  version: FEATURIZER_VERSION,
  dim: 1 << 14,
  charNgrams: [1, 2, 3],
  words: 'cut',
  skipBigrams: false,
  numMinDigits: 4,
  lexicon: LEXICON_HASH,
  lexiconWeight: 1,
  norm: 'l2',
};

/** Boundary markers placed around the text for character n-grams. */
const BOS = '\u0002';
const EOS = '\u0003';
/** Placeholder for a collapsed digit run (a private-use code point, which NFKC leaves alone). */
export const NUM_CHAR = '\uE000';

export interface SparseVector {
  /** Sorted, unique bucket indices in [0, dim). */
  indices: Int32Array;
  /** L2-normalised values, same length as `indices`. */
  values: Float32Array;
}

/** FNV-1a, 32-bit, over the UTF-16 code units of `s`. Deterministic across platforms and runs. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    // h * 16777619 (FNV prime) mod 2^32, via shifts to stay exact in 53-bit doubles.
    h = (h + (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24)) >>> 0;
  }
  return h >>> 0;
}

/** NFKC + lowercase + whitespace collapse (before digit collapsing). */
export function baseNormalize(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** baseNormalize + long digit runs → NUM_CHAR. The text the n-grams and words are taken from. */
export function normalizeText(text: string, numMinDigits = DEFAULT_FEATURIZER.numMinDigits): string {
  let s = baseNormalize(text);
  if (numMinDigits > 0) {
    s = s.replace(new RegExp(`\\d{${numMinDigits},}`, 'g'), NUM_CHAR);
  }
  return s;
}

let jiebaInstance: Jieba | undefined;
function jieba(): Jieba {
  if (!jiebaInstance) jiebaInstance = Jieba.withDict(dict);
  return jiebaInstance;
}

export function validateSettings(s: FeaturizerSettings): void {
  if (s.version !== FEATURIZER_VERSION) {
    throw new Error(`featurizer version "${s.version}" is not supported by this code (expects "${FEATURIZER_VERSION}")`);
  }
  if (!Number.isInteger(s.dim) || s.dim < 2 || (s.dim & (s.dim - 1)) !== 0) {
    throw new Error(`featurizer dim must be a power of two, got ${s.dim}`);
  }
  if (!['off', 'cut', 'search'].includes(s.words)) throw new Error(`featurizer words must be "off", "cut" or "search", got ${JSON.stringify(s.words)}`);
  if (s.lexicon !== null && s.lexicon !== LEXICON_HASH) {
    throw new Error(`model was trained with domain lexicon ${s.lexicon}, but models/lexicon.ts is now ${LEXICON_HASH}; retrain`);
  }
  if (!(s.lexiconWeight > 0)) throw new Error(`featurizer lexiconWeight must be > 0, got ${s.lexiconWeight}`);
  if (s.norm !== 'l2' && s.norm !== 'none') throw new Error(`featurizer norm must be "l2" or "none", got ${JSON.stringify(s.norm)}`);
  if (s.charNgrams.some((n) => !Number.isInteger(n) || n < 1 || n > 6)) {
    throw new Error(`featurizer charNgrams must be integers in 1..6, got ${JSON.stringify(s.charNgrams)}`);
  }
}

export class Featurizer {
  readonly settings: FeaturizerSettings;
  private readonly mask: number;

  constructor(settings: Partial<FeaturizerSettings> = {}) {
    this.settings = { ...DEFAULT_FEATURIZER, ...settings, charNgrams: [...(settings.charNgrams ?? DEFAULT_FEATURIZER.charNgrams)] };
    validateSettings(this.settings);
    this.mask = this.settings.dim - 1;
    if (this.settings.words !== 'off') jieba(); // load the dictionary up front, not on the first request
  }

  get dim(): number {
    return this.settings.dim;
  }

  /** The (unhashed) tokens of a text, each prefixed with its kind. Useful for debugging. */
  tokens(text: string): string[] {
    const base = baseNormalize(text);
    const n0 = this.settings.numMinDigits;
    const norm = n0 > 0 ? base.replace(new RegExp(`\\d{${n0},}`, 'g'), NUM_CHAR) : base;
    const out: string[] = [];
    if (norm.length === 0) return out; // empty text → empty vector (the model then outputs its prior)
    // Code points, not UTF-16 units, so emoji count as one character.
    const chars = [BOS, ...Array.from(norm), EOS];
    for (const n of this.settings.charNgrams) {
      const prefix = `c${n}:`;
      if (n === 1) {
        // Unigrams without the boundary markers (they would be constant features).
        for (let i = 1; i < chars.length - 1; i++) if (chars[i] !== ' ') out.push(prefix + chars[i]);
        continue;
      }
      for (let i = 0; i + n <= chars.length; i++) out.push(prefix + chars.slice(i, i + n).join(''));
    }
    if (this.settings.skipBigrams) {
      for (let i = 1; i + 2 < chars.length - 1; i++) if (chars[i] !== ' ' && chars[i + 2] !== ' ') out.push(`s:${chars[i]}${chars[i + 2]}`);
    }
    if (this.settings.words !== 'off' && norm.length > 0) {
      const words = this.settings.words === 'search' ? jieba().cutForSearch(norm, true) : jieba().cut(norm, true);
      for (const w of words) {
        const t = w.trim();
        if (t.length === 0) continue;
        out.push(`w:${t === NUM_CHAR ? '<num>' : t}`);
      }
    }
    if (this.settings.lexicon !== null) for (const c of matchConcepts(base)) out.push(`k:${c}`);
    return out;
  }

  /** Sparse hashed features: sorted unique indices with sublinear-tf, L2-normalised values. */
  featurize(text: string): SparseVector {
    const counts = new Map<number, number>();
    const kw = this.settings.lexiconWeight;
    for (const tok of this.tokens(text)) {
      const idx = fnv1a32(tok) & this.mask;
      const add = kw !== 1 && tok.startsWith('k:') ? kw : 1;
      counts.set(idx, (counts.get(idx) ?? 0) + add);
    }
    const indices = Int32Array.from(counts.keys()).sort();
    const values = new Float32Array(indices.length);
    let norm2 = 0;
    for (let k = 0; k < indices.length; k++) {
      const v = 1 + Math.log(counts.get(indices[k])!);
      values[k] = v;
      norm2 += v * v;
    }
    if (this.settings.norm === 'l2' && norm2 > 0) {
      const inv = 1 / Math.sqrt(norm2);
      for (let k = 0; k < values.length; k++) values[k] *= inv;
    }
    return { indices, values };
  }
}
