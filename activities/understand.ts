import type { AnswerView, UnderstandInput, Understanding } from '../machines/types';
import type { KnowledgeEntry } from '../knowledge/schema';
import type { KnowledgeHolder } from './knowledge-holder';

/** Candidates of a group the user picked from the menu are preferred by this factor. */
const GROUP_PRIOR = 1.5;

export function toAnswerView(e: KnowledgeEntry): AnswerView {
  return {
    intent: e.intent,
    title: e.title,
    solution: e.solution,
    alternative: e.alternative,
    policy: e.policy,
    conversion: e.conversion,
  };
}

/** Knowledge-based understanding: a conversational act if the message is one, else scored topics. */
export function makeUnderstand(knowledge: KnowledgeHolder) {
  return async function understand(input: UnderstandInput): Promise<Understanding> {
    const index = knowledge.current();
    const text = input.text.trim();
    if (!text) return { candidates: [], answers: {} };
    const meta = index.detectMeta(text);
    let candidates = index.search(text, 6);
    if (input.group) {
      const inGroup = (intent: string) => intent.startsWith(input.group + '.');
      candidates = candidates
        .map((c) => (inGroup(c.intent) ? { ...c, score: Math.min(1, Math.round(c.score * GROUP_PRIOR * 1000) / 1000) } : c))
        .sort((a, b) => b.score - a.score);
    }
    candidates = candidates.slice(0, 3);
    const answers: Record<string, AnswerView> = {};
    for (const c of candidates) answers[c.intent] = toAnswerView(index.entry(c.intent)!);
    return { ...(meta ? { meta: meta.intent, metaExact: meta.exact } : {}), candidates, answers };
  };
}
