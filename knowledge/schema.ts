import { z } from 'zod';

const intentId = z.string().regex(/^[a-z]+\.[a-z_]+$/, 'intent ids look like group.name');
const steps = z.object({ summary: z.string().min(1), steps: z.array(z.string().min(1)).min(1) });

/** One problem → solution → conversion entry of the knowledge graph. */
export const knowledgeEntrySchema = z.object({
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
});
export type KnowledgeEntry = z.infer<typeof knowledgeEntrySchema>;

export const knowledgeFileSchema = z.array(knowledgeEntrySchema);

/** Short phrases that carry a conversational act rather than a problem. */
export const metaLexiconSchema = z.record(
  z.string().regex(/^meta\.[a-z]+$/),
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
