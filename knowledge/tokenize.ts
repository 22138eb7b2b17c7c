import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict';

let jieba: Jieba | undefined;
function segmenter(): Jieba {
  jieba ??= Jieba.withDict(dict);
  return jieba;
}

// Function words that carry no topic; kept short on purpose: 不/没 carry meaning ("不能评论").
const STOPWORDS = new Set(
  '的 了 吗 呢 吧 啊 呀 哦 嘛 我 你 他 她 它 我们 是 在 有 和 就 都 也 还 这 那 个 一 一下 怎么 怎么办 怎样 如何 什么 为什么 为啥 咋 能 可以 要 想 请问 请 帮 帮忙 一直 现在 今天 这个 那个 么 么样 给 把 被 让 会 到 说 下 又 很 太 好'.split(' '),
);

const PUNCT = /[\s\p{P}\p{S}]+/gu;

/** Normalise user text: NFKC (full-width → half-width), lower case, no punctuation or emoji. */
export function normalize(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(PUNCT, ' ').trim();
}

/**
 * Terms for retrieval: jieba words (search mode, which also emits sub-words of long words)
 * plus character bigrams of each CJK run, which catch typos and unsegmented slang.
 */
export function tokenize(text: string): string[] {
  const norm = normalize(text);
  if (!norm) return [];
  const terms: string[] = [];
  for (const w of segmenter().cutForSearch(norm, true)) {
    const t = w.trim();
    if (t && !STOPWORDS.has(t)) terms.push(t);
  }
  for (const run of norm.match(/\p{Script=Han}+/gu) ?? []) {
    for (let i = 0; i + 1 < run.length; i++) terms.push('#' + run.slice(i, i + 2));
  }
  return terms;
}
