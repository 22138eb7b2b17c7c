import { describe, it, expect } from 'vitest';
import { KnowledgeIndex } from '../../knowledge/retrieval';
import {
  knowledgeEntrySchema,
  knowledgeFileSchema,
  MIN_DETAILS,
  MIN_DETAIL_EXAMPLES,
  sameTextForm,
  type KnowledgeDetail,
} from '../../knowledge/schema';
import { readContent } from '../../knowledge/store';

const { entries, lexicon } = readContent();
const index = new KnowledgeIndex(entries, lexicon);

describe('knowledge detail nodes in the content files', () => {
  it('gives every entry at least three details', () => {
    expect(entries.length).toBeGreaterThanOrEqual(37);
    for (const e of entries) expect(e.details.length, e.intent).toBeGreaterThanOrEqual(MIN_DETAILS);
  });

  it('uses short ids that are unique within the entry', () => {
    for (const e of entries) {
      const ids = e.details.map((d) => d.id);
      expect(new Set(ids).size, e.intent).toBe(ids.length);
      for (const id of ids) expect(id, e.intent).toMatch(/^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/);
    }
  });

  it('gives every detail at least five distinct examples, a short question and a 1–3 sentence answer', () => {
    for (const e of entries) {
      for (const d of e.details) {
        const where = `${e.intent}/${d.id}`;
        expect(d.examples.length, where).toBeGreaterThanOrEqual(MIN_DETAIL_EXAMPLES);
        expect(new Set(d.examples.map(sameTextForm)).size, where).toBe(d.examples.length);
        expect(d.question.length, where).toBeLessThanOrEqual(30);
        const sentences = d.answer.split(/[。！？]/).filter((s) => s.trim()).length;
        expect(sentences, where).toBeGreaterThanOrEqual(1);
        expect(sentences, where).toBeLessThanOrEqual(3);
      }
    }
  });

  it('never repeats an example inside an entry, nor one of the entry’s own questions', () => {
    for (const e of entries) {
      const questions = new Set(e.questions.map(sameTextForm));
      const seen = new Set<string>();
      for (const d of e.details) {
        for (const x of d.examples) {
          const form = sameTextForm(x);
          expect(questions.has(form), `${e.intent}/${d.id}: ${x}`).toBe(false);
          expect(seen.has(form), `${e.intent}/${d.id}: ${x}`).toBe(false);
          seen.add(form);
        }
      }
    }
  });

  it('does not share an example between two entries', () => {
    const owner = new Map<string, string>();
    for (const e of entries) {
      for (const d of e.details) {
        for (const x of d.examples) {
          const form = sameTextForm(x);
          const other = owner.get(form);
          expect(other === undefined || other === e.intent, `${x}: ${other} and ${e.intent}`).toBe(true);
          owner.set(form, e.intent);
        }
      }
    }
  });

  it('writes no example the short-message meta detector would claim', () => {
    for (const e of entries) {
      for (const d of e.details) for (const x of d.examples) expect(index.detectMeta(x), `${e.intent}/${d.id}: ${x}`).toBeUndefined();
    }
  });

  // The follow-ups this change exists for, each under the topic it belongs to.
  it.each([
    ['pay.minor_refund', 'materials', '他今年13 要准备啥材料'],
    ['account.ban_appeal', 'where-to-appeal-when-logged-out', '号都登不进去 去哪申诉啊'],
    ['order.damaged_wrong', 'refund-instead-of-exchange', '不换了 我直接退吧'],
    ['order.return_refund', 'refund-instead-of-exchange', '不换了 我直接退吧'],
    ['account.security', 'phone-changed-by-thief', '绑的手机号也被他改了 我现在登都登不进去'],
    ['live.permission', 'which-conditions-missing', '实名早就弄好了 还差啥'],
  ])('%s has the detail %s (for "%s")', (intent, id) => {
    const entry = entries.find((e) => e.intent === intent);
    expect(entry?.details.some((d) => d.id === id)).toBe(true);
  });
});

describe('the detail schema', () => {
  const base = entries.find((e) => e.intent === 'order.cancel')!;
  const detail = (id: string, tag: string): KnowledgeDetail => ({
    id,
    question: `测试问题${tag}`,
    examples: [1, 2, 3, 4, 5].map((n) => `测试说法${tag}-${n}`),
    answer: '测试回答。',
  });

  it('accepts an entry with three well-formed details', () => {
    expect(knowledgeEntrySchema.safeParse({ ...base, details: [detail('a', 'a'), detail('b', 'b'), detail('c', 'c')] }).success).toBe(true);
  });

  it('refuses an entry with a duplicate detail id', () => {
    const parsed = knowledgeEntrySchema.safeParse({ ...base, details: [detail('fee', 'a'), detail('fee', 'b'), detail('c', 'c')] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.some((i) => i.message.includes('duplicate detail id fee'))).toBe(true);
  });

  it('refuses the same example twice in one entry, even with different punctuation', () => {
    const twice = { ...detail('b', 'b'), examples: ['在哪点？', '多久到账', '要钱吗', '咋弄', '找不到入口'] };
    const other = { ...detail('c', 'c'), examples: ['在哪点', '另一种说法1', '另一种说法2', '另一种说法3', '另一种说法4'] };
    expect(knowledgeEntrySchema.safeParse({ ...base, details: [detail('a', 'a'), twice, other] }).success).toBe(false);
  });

  it('refuses an example that repeats one of the entry’s questions', () => {
    const copy = { ...detail('b', 'b'), examples: [base.questions[0], '说法1', '说法2', '说法3', '说法4'] };
    expect(knowledgeEntrySchema.safeParse({ ...base, details: [detail('a', 'a'), copy, detail('c', 'c')] }).success).toBe(false);
  });

  it('refuses a detail with fewer than five examples or an over-long question', () => {
    const few = { ...detail('b', 'b'), examples: ['一', '二', '三', '四'] };
    const long = { ...detail('c', 'c'), question: '这是一个特别特别特别特别特别特别特别特别长的而且超过三十个字的问题吗' };
    expect(knowledgeEntrySchema.safeParse({ ...base, details: [detail('a', 'a'), few, detail('c', 'c')] }).success).toBe(false);
    expect(knowledgeEntrySchema.safeParse({ ...base, details: [detail('a', 'a'), detail('b', 'b'), long] }).success).toBe(false);
  });

  it('defaults details to [] for a stored entry written before details existed, but a content file needs three', () => {
    const { details: _omitted, ...old } = base;
    const parsed = knowledgeEntrySchema.parse(old);
    expect(parsed.details).toEqual([]);
    expect(knowledgeFileSchema.safeParse([old]).success).toBe(false);
    expect(knowledgeEntrySchema.safeParse({ ...base, details: [detail('a', 'a'), detail('b', 'b')] }).success).toBe(false);
  });
});
