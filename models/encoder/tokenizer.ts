/**
 * The XLM-RoBERTa SentencePiece unigram tokenizer of multilingual-e5-small, in TypeScript.
 *
 * Steps, as the model was trained with them: every code point goes through the vocabulary's normalisation map
 * (full-width → half-width, compatibility forms, control characters removed, tabs/newlines → space), runs of
 * spaces collapse to one, a leading space is added unless the text starts with one, and spaces become the
 * metaspace "▁". The pieces are then chosen by Viterbi: the segmentation with the highest sum of piece scores
 * (log-probabilities); a character no piece covers becomes `<unk>` with a score 10 below the lowest piece's.
 * Control pieces (`<s>`, `</s>`, `<pad>`, `<unk>`) are never matched in text, so a user typing "<s>" gets
 * ordinary pieces.
 */
import type { E5Vocabulary } from './e5-file';

const SPACE = 0x20;
const METASPACE = '\u2581';

export class UnigramTokenizer {
  private readonly ids = new Map<string, number>();
  /** The longest piece, in code points: no longer span needs looking up. */
  private readonly maxPieceChars: number;
  private readonly unkScore: number;

  constructor(private readonly vocab: E5Vocabulary) {
    const control = new Set([vocab.bos, vocab.eos, vocab.pad, vocab.unk]);
    let maxChars = 1;
    let minScore = Infinity;
    vocab.pieces.forEach((piece, id) => {
      minScore = Math.min(minScore, vocab.scores[id]);
      if (control.has(id) || piece.length === 0) return;
      if (!this.ids.has(piece)) this.ids.set(piece, id);
      maxChars = Math.max(maxChars, [...piece].length);
    });
    this.maxPieceChars = maxChars;
    this.unkScore = minScore - 10;
  }

  get bos(): number {
    return this.vocab.bos;
  }
  get eos(): number {
    return this.vocab.eos;
  }

  /** The normalised characters of `text`, metaspace included, one string per code point. */
  normalise(text: string): string[] {
    const cps: number[] = [];
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      const mapped = this.vocab.normalisation.get(cp);
      if (!mapped) cps.push(cp);
      else cps.push(...mapped);
    }
    const chars: string[] = [];
    if (cps[0] !== SPACE) chars.push(METASPACE);
    for (let i = 0; i < cps.length; i++) {
      if (cps[i] === SPACE && i > 0 && cps[i - 1] === SPACE) continue;
      chars.push(cps[i] === SPACE ? METASPACE : String.fromCodePoint(cps[i]));
    }
    return chars;
  }

  /** Piece ids of `text` without `<s>`/`</s>`. */
  encode(text: string): number[] {
    const chars = this.normalise(text);
    const n = chars.length;
    const best = new Float64Array(n + 1).fill(-Infinity);
    const piece = new Int32Array(n + 1);
    const from = new Int32Array(n + 1);
    best[0] = 0;
    for (let i = 0; i < n; i++) {
      if (best[i] === -Infinity) continue;
      let span = '';
      for (let e = i + 1; e <= Math.min(n, i + this.maxPieceChars); e++) {
        span += chars[e - 1];
        const id = this.ids.get(span);
        if (id === undefined) continue;
        const score = best[i] + this.vocab.scores[id];
        if (score > best[e]) {
          best[e] = score;
          piece[e] = id;
          from[e] = i;
        }
      }
      const unknown = best[i] + this.unkScore;
      if (unknown > best[i + 1]) {
        best[i + 1] = unknown;
        piece[i + 1] = this.vocab.unk;
        from[i + 1] = i;
      }
    }
    const out: number[] = [];
    for (let i = n; i > 0; i = from[i]) out.push(piece[i]);
    return out.reverse();
  }

  piece(id: number): string {
    return this.vocab.pieces[id];
  }
}
