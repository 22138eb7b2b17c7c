import { assign, fromPromise, setup, type SnapshotFrom } from 'xstate';
import type { Reply } from '../common/types';
import chart from './conversation.chart.json';
import { HUMAN_KEY, MENU_GROUPS, replies } from './replies';
import type {
  AnswerView,
  ChartContext,
  ChartEvent,
  ChartInput,
  RequestHandoffInput,
  UnderstandInput,
  Understanding,
} from './types';

/** Knowledge scores at or above this answer directly; below it the bot asks which topic is meant. */
export const CONFIDENT_SCORE = 0.4;
/** The best candidate must lead the runner-up by this much to be answered directly. */
export const CONFIDENT_MARGIN = 0.1;
/** Candidates below this are not worth offering. */
export const CANDIDATE_SCORE = 0.2;
/** Rejected solutions before the conversation goes to a human. */
export const MAX_REJECTIONS = 2;

export const CHART_VERSION = chart.version;

type Ctx = { context: ChartContext };

const say = (context: ChartContext, ...more: Array<Reply | null>): Reply[] => [
  ...context.outbox,
  ...more.filter((r): r is Reply => r !== null),
];

/** The digit the user picked: a DTMF key, or a message that is only a number such as "2" / "２号". */
function keyOf(text: string, dtmf: string | undefined): string | null {
  if (dtmf) return dtmf.slice(0, 1);
  const m = text.normalize('NFKC').trim().match(/^(?:第)?(\d)(?:个|号|项)?[。.!！]?$/);
  return m ? m[1] : null;
}
const pickedKey = (context: ChartContext) => keyOf(context.text, context.dtmf);

const isConfident = (context: ChartContext) => {
  const [top, second] = context.nlu?.candidates ?? [];
  return !!top && top.score >= CONFIDENT_SCORE && top.score - (second?.score ?? 0) >= CONFIDENT_MARGIN;
};

const hasCandidate = (context: ChartContext) => (context.nlu?.candidates ?? []).some((c) => c.score >= CANDIDATE_SCORE);

/**
 * The conversational act of the message, read in context: a partial match such as "推广没效果"
 * is a rejection when the bot just asked for feedback, but a question when it matches a topic.
 */
function meta(context: ChartContext): string | undefined {
  const nlu = context.nlu;
  if (!nlu?.meta) return undefined;
  if (nlu.metaExact || nlu.meta === 'meta.human' || context.expecting === 'feedback') return nlu.meta;
  return hasCandidate(context) ? undefined : nlu.meta;
}
const awaitingPick = (context: ChartContext) => context.expecting === 'choice' || context.expecting === 'menu';

function adopt(context: ChartContext, answer: AnswerView | undefined, confidence: number): Partial<ChartContext> {
  if (!answer) return {};
  return {
    topic: answer,
    lastIntent: { name: answer.intent, confidence },
    rejections: context.topic?.intent === answer.intent ? context.rejections : 0,
    group: null,
  };
}

/**
 * Named implementations for the chart JSON. The actors are placeholders with the right types:
 * the workflow (and the simulator) run them, the chart only asks for them.
 */
export const conversationSetup = setup({
  types: {} as { context: ChartContext; events: ChartEvent; input: ChartInput },
  actors: {
    understand: fromPromise<Understanding, UnderstandInput>(async () => {
      throw new Error('understand runs as an activity');
    }),
    requestHandoff: fromPromise<{ ticketId: string; status: 'queued' }, RequestHandoffInput>(async () => {
      throw new Error('requestHandoff runs as an activity');
    }),
  },
  guards: {
    // A number typed or keyed while options are on screen needs no understanding: route it directly,
    // which also keeps the menu usable when the understanding activity is down.
    isPick: ({ context, event }) =>
      event.type === 'user.message' && awaitingPick(context) && keyOf(event.text, event.dtmf) !== null,
    pickedHuman: ({ context }: Ctx) => awaitingPick(context) && pickedKey(context) === HUMAN_KEY,
    wantsHuman: ({ context }: Ctx) => meta(context) === 'meta.human',
    saysGoodbye: ({ context }: Ctx) => meta(context) === 'meta.goodbye',
    pickedCandidate: ({ context }: Ctx) => {
      const key = pickedKey(context);
      return context.expecting === 'choice' && key !== null && Number(key) >= 1 && Number(key) <= context.choices.length;
    },
    pickedMenuGroup: ({ context }: Ctx) => {
      const key = pickedKey(context);
      return context.expecting === 'menu' && MENU_GROUPS.some((g) => g.key === key);
    },
    confirmsSolved: ({ context }: Ctx) =>
      context.expecting === 'feedback' && (meta(context) === 'meta.affirm' || meta(context) === 'meta.thanks'),
    rejectsAnswer: ({ context }: Ctx) => context.expecting === 'feedback' && meta(context) === 'meta.deny',
    saysThanks: ({ context }: Ctx) => meta(context) === 'meta.thanks',
    saysGreeting: ({ context }: Ctx) => meta(context) === 'meta.greeting',
    isBareMeta: ({ context }: Ctx) => meta(context) !== undefined,
    hasConfidentAnswer: ({ context }: Ctx) => isConfident(context),
    hasCandidates: ({ context }: Ctx) => hasCandidate(context),
    canOfferAlternative: ({ context }: Ctx) => context.rejections < MAX_REJECTIONS && context.topic !== null,
  },
  actions: {
    beginTurn: assign(({ context, event }) => {
      const message = event.type === 'user.message' ? event : null;
      return {
        turn: context.turn + 1,
        text: message?.text ?? '',
        dtmf: message?.dtmf ?? '',
        channel: message?.channel ?? context.channel,
        nlu: null,
        outbox: [],
      };
    }),
    greet: assign({ outbox: ({ context }: Ctx) => say(context, replies.greeting()) }),
    storeUnderstanding: assign(({ event }) => {
      const nlu = (event as Extract<ChartEvent, { type: 'xstate.done.actor.understand' }>).output;
      const top = nlu.candidates[0];
      const lastIntent = nlu.meta && nlu.metaExact ? { name: nlu.meta, confidence: 1 } : top ? { name: top.intent, confidence: top.score } : nlu.meta ? { name: nlu.meta, confidence: 0.6 } : null;
      return { nlu, lastIntent };
    }),
    adoptTopCandidate: assign(({ context }: Ctx) => {
      const top = context.nlu!.candidates[0];
      return adopt(context, context.nlu!.answers[top.intent], top.score);
    }),
    adoptPickedCandidate: assign(({ context }: Ctx) => {
      const choice = context.choices[Number(pickedKey(context)) - 1];
      return adopt(context, context.topicAnswers?.[choice.intent], 1);
    }),
    presentAnswer: assign(({ context }: Ctx) => ({
      outbox: say(context, replies.answer(context.topic!), replies.offer(context.topic!), replies.askIfHelped()),
      expecting: 'feedback' as const,
      choices: [],
    })),
    countRejection: assign({ rejections: ({ context }: Ctx) => context.rejections + 1 }),
    presentAlternative: assign(({ context }: Ctx) => ({
      outbox: say(context, replies.alternative(context.topic!), replies.askIfHelped()),
      expecting: 'feedback' as const,
    })),
    sayGlad: assign(({ context }: Ctx) => ({ outbox: say(context, replies.glad()), expecting: 'question' as const })),
    offerCandidates: assign(({ context }: Ctx) => {
      const choices = context.nlu!.candidates.filter((c) => c.score >= CANDIDATE_SCORE);
      return {
        choices,
        topicAnswers: context.nlu!.answers,
        outbox: say(context, replies.clarify(choices)),
        expecting: 'choice' as const,
      };
    }),
    askDetailsInGroup: assign(({ context }: Ctx) => {
      const picked = MENU_GROUPS.find((g) => g.key === pickedKey(context))!;
      return {
        group: picked.group,
        choices: [],
        outbox: say(context, replies.askDetailsInGroup(picked.label)),
        expecting: 'question' as const,
      };
    }),
    sayNotUnderstood: assign({ outbox: ({ context }: Ctx) => say(context, replies.notUnderstood()) }),
    apologiseUnderstandingFailed: assign({ outbox: ({ context }: Ctx) => say(context, replies.understandingFailed()) }),
    showMenu: assign(({ context }: Ctx) => ({ outbox: say(context, replies.menu()), expecting: 'menu' as const, choices: [] })),
    sayYouAreWelcome: assign(({ context }: Ctx) => ({ outbox: say(context, replies.youAreWelcome()), expecting: 'question' as const })),
    askHowToHelp: assign(({ context }: Ctx) => ({ outbox: say(context, replies.askHowToHelp()), expecting: 'question' as const })),
    askWhatElse: assign(({ context }: Ctx) => ({ outbox: say(context, replies.askWhatElse()), expecting: 'question' as const })),
    sayEscalating: assign({ outbox: ({ context }: Ctx) => say(context, replies.escalating()) }),
    storeHandoff: assign({
      handoff: ({ event }) => {
        const out = (event as Extract<ChartEvent, { type: 'xstate.done.actor.requestHandoff' }>).output;
        return { status: out.status, ticketId: out.ticketId };
      },
    }),
    announceHandoff: assign(({ context }: Ctx) => ({ outbox: say(context, replies.handoffQueued()), expecting: 'question' as const })),
    holdForAgent: assign({ outbox: ({ context }: Ctx) => say(context, replies.handoffHold()) }),
    apologiseHandoffUnavailable: assign({ outbox: ({ context }: Ctx) => say(context, replies.handoffUnavailable()) }),
    countFailure: assign({ failures: ({ context }: Ctx) => context.failures + 1 }),
    sayGoodbye: assign({ outbox: ({ context }: Ctx) => say(context, replies.goodbye()) }),
    sayClosedForInactivity: assign({ outbox: ({ context }: Ctx) => say(context, replies.closedForInactivity()) }),
  },
});

export const conversationMachine = conversationSetup.createMachine({
  ...(chart as object),
  context: ({ input }: { input: ChartInput }): ChartContext => ({
    conversationId: input.conversationId,
    userId: input.userId,
    channel: input.channel,
    turn: 0,
    text: '',
    dtmf: '',
    expecting: 'question',
    nlu: null,
    choices: [],
    topicAnswers: {},
    group: null,
    topic: null,
    lastIntent: null,
    rejections: 0,
    failures: 0,
    handoff: null,
    outbox: [],
  }),
} as Parameters<typeof conversationSetup.createMachine>[0]);

export type ConversationSnapshot = SnapshotFrom<typeof conversationMachine>;

/** Inputs for the invoked actors, named by src; computed from the context when the chart invokes them. */
export const actorInputs = {
  understand: (c: ChartContext): UnderstandInput => ({ conversationId: c.conversationId, text: c.text, group: c.group }),
  requestHandoff: (c: ChartContext): RequestHandoffInput => ({
    conversationId: c.conversationId,
    userId: c.userId,
    reason: c.rejections >= MAX_REJECTIONS ? 'solutions_rejected' : c.failures > 0 ? 'bot_failure' : 'user_request',
  }),
} as const;
export type ActorSrc = keyof typeof actorInputs;

/** The active state as a dotted path, e.g. "answering.awaitingFeedback". */
export function stateName(snapshot: { value: unknown }): string {
  const parts: string[] = [];
  let v = snapshot.value;
  while (v && typeof v === 'object') {
    const [k, child] = Object.entries(v as Record<string, unknown>)[0];
    parts.push(k);
    v = child;
  }
  if (typeof v === 'string') parts.push(v);
  return parts.join('.');
}
