import { changesSubject } from '../common/text-cues';
import type { KnowledgeEntry } from '../knowledge/schema';
import { confidentSibling, continuationFeatures, continuationProbability } from '../models/continuation';
import type { AnswerView, EmotionView, ScoredCandidate, UnderstandInput, Understanding } from '../machines/types';
import type { KnowledgeIndex } from '../knowledge/retrieval';
import type { LoadedModels } from './model-holder';
import { readWithCascade } from '../models/cascade';
import type { Embedder } from '../models/encoder/encoder';

/** Candidates of a group the user picked from the menu (or is following up in) are preferred by this factor. */
const GROUP_PRIOR = 1.5;
/** How much a knowledge match counts next to the intent model's probability. */
const RETRIEVAL_WEIGHT = 0.5;
/** A meta intent from the model counts above this probability, and as the whole message above the next. */
const META_PROBABLE = 0.5;
const META_CERTAIN = 0.8;
const MODEL_CANDIDATES = 5;
/** A detail match this good keeps a message in its topic even when the model is sure of a neighbouring topic. */
const SIBLING_DETAIL = 0.4;
/** Detail matches below this are not reported: too weak to answer with. */
const DETAIL_FLOOR = 0.25;

function toAnswerView(e: KnowledgeEntry): AnswerView {
  return { intent: e.intent, title: e.title, solution: e.solution, alternative: e.alternative, policy: e.policy, conversion: e.conversion };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Understanding = the intent model (primary) + knowledge retrieval (second signal) + the meta lexicon.
 * A topic's score is a noisy-OR of the two signals, so agreement raises confidence and either alone
 * still counts; the model's own verdict (with `oos`) and the emotion go to the chart as they are.
 */
export function makeUnderstand(knowledge: { current(): KnowledgeIndex }, models: { current(): LoadedModels }, encoder: { current(): Embedder | undefined }) {
  return async function understand(input: UnderstandInput): Promise<Understanding> {
    const index = knowledge.current();
    const { intent: intentModel, emotion: emotionModel, versions } = models.current();
    const text = input.text.trim();
    if (!text) return { candidates: [], answers: {} };

    const { intent, emotion, embedding } = await readWithCascade(text, intentModel, emotionModel, encoder.current());
    const retrieved = new Map(index.search(text, 6, embedding).map((c) => [c.intent, c]));
    const modelTopics = intent.scores.filter((s) => index.entry(s.label)).slice(0, MODEL_CANDIDATES);
    const modelScore = new Map(modelTopics.map((s) => [s.label, s.score]));
    // Inside a topic the message is also scored against that topic's follow-up questions.
    // The chart says how strongly: a prior that the conversation continues, and the weight of a detail match,
    // combined with the model and retrieval by noisy-OR — so "要准备啥材料" after the minor-refund answer stays there.
    const inTopic = input.topic && index.entry(input.topic.intent) && !changesSubject(text) ? input.topic : null;
    const topic = inTopic?.intent ?? null;
    const detail = topic ? index.searchDetails(topic, text, embedding) : undefined;
    const ids = new Set([...modelScore.keys(), ...retrieved.keys(), ...(topic ? [topic] : [])]);
    // With a learned continuation model, P(continue) decides whether the message is read inside the topic and
    // how confidently; without one, a fixed prior joins the topic's noisy-OR.
    const modelProb = new Map(intent.scores.map((s) => [s.label, s.score]));
    const continues =
      inTopic?.continuation && topic
        ? confidentSibling(topic, modelProb) && (detail?.score ?? 0) < SIBLING_DETAIL
          ? 0 // a neighbouring question of the same group is read on its own, unless it asks one of this topic's details
          : continuationProbability(
              inTopic.continuation,
              continuationFeatures({
                text,
                topic,
                modelProb,
                retrieval: new Map([...retrieved].map(([id, c]) => [id, c.score])),
                detail: detail?.score ?? 0,
              }),
            )
        : null;

    let candidates: ScoredCandidate[] = [...ids].map((id) => {
      const entry = index.entry(id)!;
      const p = modelScore.get(id) ?? 0;
      const r = retrieved.get(id)?.score ?? 0;
      const isTopic = !!inTopic && id === topic;
      const here = isTopic ? (continues === null ? 1 - inTopic.prior : 1) * (1 - inTopic.detailWeight * (detail?.score ?? 0)) : 1;
      const prior = input.group && id.startsWith(input.group + '.') ? GROUP_PRIOR : 1;
      const alone = Math.min(1, (1 - (1 - p) * (1 - RETRIEVAL_WEIGHT * r) * here) * prior);
      // Below even odds the message is read on its own; above, the topic takes the model's confidence.
      const score = continues === null || continues < 0.5 ? alone : isTopic ? continues + (1 - continues) * alone : (1 - continues) * alone;
      return { intent: id, title: entry.title, menuLabel: entry.menuLabel, score: round(score) };
    });
    candidates = candidates.sort((a, b) => b.score - a.score || a.intent.localeCompare(b.intent)).slice(0, 3);

    // Conversational acts: the lexicon's exact phrases are certain; else the model; else a partial lexicon match.
    const lexical = index.detectMeta(text);
    let meta: { intent: string; exact: boolean } | undefined = lexical?.exact ? lexical : undefined;
    if (!meta && intent.label.startsWith('meta.') && intent.confidence >= META_PROBABLE) {
      meta = { intent: intent.label, exact: intent.confidence >= META_CERTAIN };
    }
    meta ??= lexical;

    const answers: Record<string, AnswerView> = {};
    for (const c of candidates) answers[c.intent] = toAnswerView(index.entry(c.intent)!);
    return {
      ...(meta ? { meta: meta.intent, metaExact: meta.exact } : {}),
      ...(detail && detail.score >= DETAIL_FLOOR
        ? { detail: { id: detail.detail.id, question: detail.detail.question, answer: detail.detail.answer, score: detail.score } }
        : {}),
      candidates,
      answers,
      intent: { name: intent.label, confidence: round(intent.confidence), model: `intent@v${versions.intent}` },
      emotion: { label: emotion.label as EmotionView['label'], score: round(emotion.confidence) },
      ...(embedding ? { encoded: true } : {}),
    };
  };
}
