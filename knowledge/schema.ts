import { z } from 'zod';

const intentId = z.string().regex(/^[a-z]+\.[a-z_]+$/, 'intent ids look like group.name');
const steps = z.object({ summary: z.string().min(1), steps: z.array(z.string().min(1)).min(1) });

/** An entry that has detail nodes has at least this many; each detail has at least MIN_DETAIL_EXAMPLES examples. */
export const MIN_DETAILS = 3;
export const MIN_DETAIL_EXAMPLES = 5;

/** The form texts are compared in: NFKC, lower case, no whitespace or punctuation ("在哪点？" = "在哪点"). */
export function sameTextForm(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[\s\p{P}\p{S}]/gu, '');
}

/**
 * A follow-up question users ask inside a topic after the general answer ("要准备啥材料", "多久能到账"),
 * with its own short answer.
 */
export const knowledgeDetailSchema = z.object({
  /** Short kebab/snake id, unique within the entry ("materials", "time-limit", "where-entry"). */
  id: z
    .string()
    .max(40)
    .regex(/^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/, 'detail ids are short kebab-case or snake_case'),
  /** The canonical question. */
  question: z.string().min(1).max(30),
  /** Ways users type it mid-conversation: short, elliptical, colloquial. */
  examples: z.array(z.string().min(1)).min(MIN_DETAIL_EXAMPLES),
  /** 1–3 sentences consistent with the entry's solution and policy. */
  answer: z.string().min(1).max(200),
});
export type KnowledgeDetail = z.infer<typeof knowledgeDetailSchema>;

/** One problem → solution → conversion entry of the knowledge graph. */
const knowledgeEntryObject = z.object({
  intent: intentId,
  title: z.string().min(1).max(40),
  menuLabel: z.string().min(1).max(12),
  questions: z.array(z.string().min(1)).min(3),
  keywords: z.array(z.string().min(1)).default([]),
  solution: steps,
  alternative: steps,
  policy: z.string().min(1),
  followups: z.array(intentId).default([]),
  conversion: z
    .object({ product: z.string().min(1), pitch: z.string().min(1), entry: z.string().min(1), link: z.string().min(1) })
    .nullable()
    .default(null),
  /** Follow-up questions inside the topic; absent only in entries stored before details existed. */
  details: z.array(knowledgeDetailSchema).default([]),
});

/**
 * Detail ids are unique within the entry; no two examples of the entry's details are the same text, and no
 * example repeats one of the entry's own `questions`; an entry with details has at least MIN_DETAILS.
 */
export const knowledgeEntrySchema = knowledgeEntryObject.superRefine((entry, ctx) => {
  const { details } = entry;
  if (details.length > 0 && details.length < MIN_DETAILS) {
    ctx.addIssue({ code: 'custom', path: ['details'], message: `an entry with details needs at least ${MIN_DETAILS}` });
  }
  const ids = new Set<string>();
  const questions = new Set(entry.questions.map(sameTextForm));
  const examples = new Map<string, string>();
  details.forEach((detail, i) => {
    if (ids.has(detail.id)) ctx.addIssue({ code: 'custom', path: ['details', i, 'id'], message: `duplicate detail id ${detail.id}` });
    ids.add(detail.id);
    detail.examples.forEach((example, j) => {
      const form = sameTextForm(example);
      const path = ['details', i, 'examples', j];
      if (questions.has(form)) ctx.addIssue({ code: 'custom', path, message: `example ${example} repeats one of the entry's questions` });
      const owner = examples.get(form);
      if (owner !== undefined) ctx.addIssue({ code: 'custom', path, message: `example ${example} already appears in detail ${owner}` });
      else examples.set(form, detail.id);
    });
  });
});
export type KnowledgeEntry = z.infer<typeof knowledgeEntrySchema>;

/** A content file: every entry in it has at least MIN_DETAILS detail nodes. */
export const knowledgeFileSchema = z.array(
  knowledgeEntrySchema.refine((entry) => entry.details.length >= MIN_DETAILS, {
    message: `every entry in a content file needs at least ${MIN_DETAILS} details`,
    path: ['details'],
  }),
);

/** Short phrases that carry a conversational act rather than a problem. */
export const metaLexiconSchema = z.record(
  z.string().regex(/^meta\.[a-z_]+$/),
  z.object({ exact: z.array(z.string()), contains: z.array(z.string()).default([]) }),
);
export type MetaLexicon = z.infer<typeof metaLexiconSchema>;

/** A scored retrieval candidate; what the chart sees of the knowledge graph. */
export interface Candidate {
  intent: string;
  title: string;
  menuLabel: string;
  score: number;
}
