import { assertEvent, assign, fromPromise, setup, type SnapshotFrom } from 'xstate';
import { isGuest } from '../common/identity';
import { isQuestion } from '../common/text-cues';
import type { Reply } from '../common/types';
import { HUMAN_KEY, MAIN_MENU_KEY, MENU_GROUPS, NEXT_STEP_KEY, REPEAT_KEY, SOLVED_KEY, replies, type SimpleReply } from './replies';
import { extractSlots, mergeSlots } from './slots';
import { actionRecord, addressIn, offerableAction } from './actions';
import type {
  AccountLookup,
  ActionResult,
  CouponOutcome,
  IssueCouponInput,
  AnswerView,
  ChartContext,
  ChartEvent,
  ChartInput,
  ChartParams,
  EmotionView,
  Expecting,
  KnownOrder,
  LookupOrderInput,
  OrderLookup,
  OrderSearch,
  PerformActionInput,
  RequestHandoffInput,
  ScoredCandidate,
  UnderstandInput,
  Understanding,
  UserInput,
  Verification,
  VerifyIdentityInput,
} from './types';

// The named implementations (guards, actions, actors) a chart JSON may use. The chart itself is data:
// machines/charts/*.chart.json, versioned in the chart registry and checked by machines/validate.ts.

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
/** A phone keypad key pressed on its own (the IVR's navigation keys work in every state). */
const keyed = (event: ChartEvent, key: string) =>
  event.type === 'user.message' &&
  // A keypad press, or on the phone a transcript that is only that key ("1").
  ((!event.text.trim() && event.dtmf === key) || (event.channel === 'phone' && !event.dtmf && event.text.normalize('NFKC').trim() === key));
/** Whether answers on this turn's channel are read out one step at a time. */
const stepwise = (context: ChartContext) => (context.params.stepwiseChannels ?? []).includes(context.channel);
const readingSteps = (context: ChartContext) => !!context.reading && context.expecting === 'feedback';

/** An answer as the channel takes it: the full numbered steps, or (spoken) the first step and keypad navigation. */
function answerReplies(context: ChartContext, full: Reply, title: string, part: { summary: string; steps: string[] }): { outbox: Reply[]; reading: ChartContext['reading'] } {
  if (!stepwise(context)) return { outbox: [full, replies.askIfHelped()], reading: null };
  return {
    outbox: [replies.spokenAnswer(title, part.summary, part.steps), replies.spokenKeys(part.steps.length > 1)],
    reading: { steps: part.steps, next: 1 },
  };
}

/** A repeated prompt is remembered without its "let me repeat" note, so * twice repeats the same thing. */
const withoutRepeatNote = (outbox: Reply[]) => (outbox[0]?.text === replies.repeating().text ? outbox.slice(1) : outbox);
/** Nothing to read the user's feelings from in a bare key or digit: neutral. */
const NEUTRAL: EmotionView = { label: 'neutral', score: 1 };

/** Whether ranked candidates are clear enough to answer the first directly (else ask which one is meant). */
export function answersDirectly(
  candidates: readonly ScoredCandidate[],
  params: Pick<ChartParams, 'confidentScore' | 'confidentMargin'>,
): boolean {
  const [top, second] = candidates;
  return !!top && top.score >= params.confidentScore && top.score - (second?.score ?? 0) >= params.confidentMargin;
}

const isConfident = (context: ChartContext) => answersDirectly(context.nlu?.candidates ?? [], context.params);
const hasCandidate = (context: ChartContext) =>
  (context.nlu?.candidates ?? []).some((c) => c.score >= context.params.candidateScore);

/**
 * The conversational act of the message, read in context: a partial match such as "推广没效果"
 * is a rejection when the bot just asked for feedback, but a question when it matches a topic.
 */
function meta(context: ChartContext): string | undefined {
  const nlu = context.nlu;
  if (!nlu?.meta) return undefined;
  if (nlu.metaExact || nlu.meta === 'meta.human') return nlu.meta;
  // "实名早就弄好了 还差啥" contains "弄好了" but asks something: a question never closes the matter (charts that read in topic).
  if (context.params.readInTopic && CLOSING_ACTS.has(nlu.meta) && isQuestion(context.text)) return undefined;
  if (context.expecting === 'feedback') return nlu.meta;
  return hasCandidate(context) ? undefined : nlu.meta;
}
/** Acts that would close the matter: solved, thanks, bye, will try, resolved by itself, hello. */
const CLOSING_ACTS = new Set(['meta.affirm', 'meta.thanks', 'meta.goodbye', 'meta.will_try', 'meta.self_resolved', 'meta.greeting']);

/**
 * The current topic as a candidate when the message still reads as part of it: it leads, or trails the leader by
 * less than the answer margin (an ambiguous follow-up is taken to continue the conversation, not to change it).
 */
function continuedTopic(context: ChartContext) {
  const { nlu, topic, params } = context;
  const top = nlu?.candidates[0];
  if (!params.readInTopic || !topic || !top) return undefined;
  const here = nlu.candidates.find((c) => c.intent === topic.intent);
  // A learned continuation model has already weighed the topic against the others: it must lead.
  const lead = params.continuation ? 0 : params.confidentMargin;
  if (!here || here.score < params.candidateScore) return undefined;
  return here === top || top.score - here.score < lead ? here : undefined;
}

/** The current topic's detail node the message asks about, when the message continues the topic. */
function topicDetail(context: ChartContext) {
  const detail = context.nlu?.detail;
  // The topic's own request again ("帮我取消订单") where the bot can act is the action's, not a follow-up question.
  if (context.nlu?.intent?.name === context.topic?.intent && offerableAction(context)) return undefined;
  return continuedTopic(context) && detail && detail.score >= context.params.detailScore ? detail : undefined;
}
const awaitingPick = (context: ChartContext) => context.expecting === 'choice' || context.expecting === 'menu';
const needsOrder = (context: ChartContext) => !!context.topic && context.params.orderTopics.includes(context.topic.intent);
const needsAccount = (context: ChartContext) => !!context.topic && (context.params.accountTopics ?? []).includes(context.topic.intent);

/**
 * The orders to consider for an order topic without an order number: those whose status fits the topic
 * (e.g. change_address → not yet shipped); when none fits, all recent ones, so the user can still say which
 * (the answer then explains why it cannot be done). A topic with no fitting rule considers none: ask.
 */
function candidateOrders(context: ChartContext, orders: KnownOrder[]): KnownOrder[] {
  const fits = context.topic ? context.params.orderFits?.[context.topic.intent] : undefined;
  if (!fits) return [];
  // "我上周买的咖啡壶…": the orders of the product the user named come first, whatever their status.
  const product = context.slots.product?.value;
  const named = product ? orders.filter((o) => sameProduct(o.product, product)) : [];
  if (named.length > 0) return named.slice(0, MAX_ORDER_CHOICES);
  const fitting = orders.filter((o) => fits.includes(o.status));
  return (fitting.length > 0 ? fitting : orders).slice(0, MAX_ORDER_CHOICES);
}
const sameProduct = (orderProduct: string, named: string) => orderProduct.includes(named) || named.includes(orderProduct);
/** The user named a product after the order in context was chosen, and it is another one: look at their orders again. */
const namesAnotherProduct = (c: ChartContext) => {
  const { product, orderId } = c.slots;
  return !!product && !!orderId && product.turn > orderId.turn && !!c.order && !sameProduct(c.order.product, product.value);
};
const MAX_ORDER_CHOICES = 5;
const pickedOrder = (context: ChartContext, text: string, dtmf: string | undefined) => {
  const key = keyOf(text, dtmf);
  return context.expecting === 'orderChoice' && key !== null ? (context.orderChoices ?? [])[Number(key) - 1] : undefined;
};
const NEGATIVE = ['anxious', 'angry', 'disappointed'];
const isNegative = (context: ChartContext) =>
  !!context.emotion && NEGATIVE.includes(context.emotion.label) && context.emotion.score >= 0.5;
/** "一张券就想打发我？": the user turns the coupon down. */
const COUPON_WORDS = /券|优惠|打发/;

/** The user turns a coupon of this conversation down: the real remedy or a person follows, never a second coupon. */
const rejectsCoupon = (c: ChartContext) =>
  (c.compensated ?? []).length > 0 && COUPON_WORDS.test(c.text) && (isNegative(c) || !!meta(c));

/**
 * The coupon this turn owes, if any: the topic is one where the problem is the platform's fault, the user is upset
 * with a confident (calibrated) reading, and this incident (user + topic + order or account) was not compensated yet.
 * The amount grows with the user's tier, with upset across turns and with facts that show the fault.
 */
function compensation(c: ChartContext): { incidentKey: string; amount: number; reason: string } | null {
  const rule = c.params.compensation;
  const topic = c.topic;
  if (!rule || !topic || !rule.topics.includes(topic.intent) || !c.emotion) return null;
  if (!NEGATIVE.includes(c.emotion.label) || c.emotion.score < rule.minScore) return null;
  const incidentKey = `${c.userId}:${topic.intent}:${c.order?.orderId ?? 'account'}`;
  if ((c.compensated ?? []).includes(incidentKey)) return null;
  const faultShown =
    (topic.intent === 'order.logistics' && (c.order?.daysSinceLastEvent ?? 0) >= c.params.stalledDays) ||
    (topic.intent === 'order.damaged_wrong' && c.order?.status === 'delivered') ||
    c.account?.lastWithdrawal?.status === 'failed';
  const severity = 1 + ((c.negativeTurns ?? 0) >= 2 ? 1 : 0) + (faultShown ? 1 : 0);
  const base = rule.amountByTier[c.tier] ?? rule.amountByTier.standard ?? 5;
  return { incidentKey, amount: base * severity, reason: `${topic.title}（严重程度 ${severity}）` };
}
const isUpset = (context: ChartContext) =>
  !!context.emotion &&
  (context.emotion.label === 'angry' || context.emotion.label === 'disappointed') &&
  context.emotion.score >= context.params.upsetScore;

/** "回到刚才那个" / "还是说刚才那个问题": back to the topic before the current one. */
const RETURN = /(?:回到|说回|还是说|再说说|继续说)(?:刚才|刚刚|之前|前面)|(?:刚才|刚刚|之前)(?:那个|的那个|那件事|的问题)/;

const VIP_QUEUE = 'vip';
const GROUP_QUEUES = ['order', 'account', 'pay', 'live', 'creator', 'app', 'content'];
/** Which agents take the conversation: VIP users their dedicated queue, else the current topic's group, else general. */
function handoffQueue(c: ChartContext): string {
  if (c.tier === VIP_QUEUE) return VIP_QUEUE;
  const group = c.topic?.intent.split('.')[0];
  return group && GROUP_QUEUES.includes(group) ? group : 'general';
}

/** A short follow-up such as "那退货呢" / "还有运费呢" stays in the current topic's group. */
const FOLLOW_UP = /^(?:那|那么|还有|另外|然后|再问下?|顺便问下?)/;

function adopt(context: ChartContext, answer: AnswerView | undefined, confidence: number): Partial<ChartContext> {
  if (!answer) return {};
  const verdict = context.nlu?.intent;
  const switched = context.topic && context.topic.intent !== answer.intent;
  return {
    ...(switched ? { previousTopic: context.topic } : {}),
    topic: answer,
    // The topic decided in context (a pick, a follow-up) still names the model version that read the message.
    lastIntent: verdict?.name === answer.intent ? verdict : { name: answer.intent, confidence, ...(verdict?.model ? { model: verdict.model } : {}) },
    rejections: context.topic?.intent === answer.intent ? context.rejections : 0,
    group: null,
  };
}

/**
 * Named implementations for chart JSON. The actors are placeholders with the right types: the workflow
 * (and tests, and later the designer's simulator) run them; the chart only asks for them.
 */
export const conversationSetup = setup({
  types: {} as { context: ChartContext; events: ChartEvent; input: ChartInput },
  actors: {
    understand: fromPromise<Understanding, UnderstandInput>(async () => {
      throw new Error('understand runs as an activity');
    }),
    lookupOrder: fromPromise<OrderLookup, LookupOrderInput>(async () => {
      throw new Error('lookupOrder runs as an activity');
    }),
    requestHandoff: fromPromise<{ ticketId: string; status: 'queued' }, RequestHandoffInput>(async () => {
      throw new Error('requestHandoff runs as an activity');
    }),
    findOrders: fromPromise<OrderSearch, UserInput>(async () => {
      throw new Error('findOrders runs as an activity');
    }),
    lookupAccount: fromPromise<AccountLookup, UserInput>(async () => {
      throw new Error('lookupAccount runs as an activity');
    }),
    verifyIdentity: fromPromise<Verification, VerifyIdentityInput>(async () => {
      throw new Error('verifyIdentity runs as an activity');
    }),
    performAction: fromPromise<ActionResult, PerformActionInput>(async () => {
      throw new Error('performAction runs as an activity');
    }),
    issueCoupon: fromPromise<CouponOutcome, IssueCouponInput>(async () => {
      throw new Error('issueCoupon runs as an activity');
    }),
  },
  guards: {
    keyedHuman: ({ event }) => keyed(event, HUMAN_KEY),
    keyedRepeat: ({ event }) => keyed(event, REPEAT_KEY),
    keyedMainMenu: ({ event }) => keyed(event, MAIN_MENU_KEY),
    keyedNextStep: ({ context, event }) => keyed(event, NEXT_STEP_KEY) && readingSteps(context),
    keyedSolved: ({ context, event }) => keyed(event, SOLVED_KEY) && readingSteps(context),
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
    asksTopicDetail: ({ context }: Ctx) => topicDetail(context) !== undefined,
    continuesTopic: ({ context }: Ctx) => (continuedTopic(context)?.score ?? 0) >= context.params.confidentScore,
    returnsToPreviousTopic: ({ context }: Ctx) => context.params.readInTopic && !!context.previousTopic && RETURN.test(context.text),
    willTry: ({ context }: Ctx) => meta(context) === 'meta.will_try',
    resolvedItself: ({ context }: Ctx) => meta(context) === 'meta.self_resolved',
    complains: ({ context }: Ctx) => meta(context) === 'meta.complaint',
    saysGreeting: ({ context }: Ctx) => meta(context) === 'meta.greeting',
    isBareMeta: ({ context }: Ctx) => meta(context) !== undefined,
    hasConfidentAnswer: ({ context }: Ctx) => isConfident(context),
    hasCandidates: ({ context }: Ctx) => hasCandidate(context),
    canOfferAlternative: ({ context }: Ctx) => context.rejections < context.params.maxRejections && context.topic !== null,
    isOutOfScope: ({ context }: Ctx) => context.nlu?.intent?.name === 'oos' && !isConfident(context),
    needsOrderId: ({ context }: Ctx) => needsOrder(context) && !context.slots.orderId,
    needsOrderLookup: ({ context }: Ctx) => needsOrder(context) && context.order?.orderId !== context.slots.orderId?.value,
    deservesCoupon: ({ context }: Ctx) => compensation(context) !== null,
    /** A VIP who is upset, or whose solution did not work, goes straight to their dedicated agents. */
    vipNeedsPerson: ({ context }: Ctx) =>
      context.params.routeQueues && context.tier === VIP_QUEUE && (isUpset(context) || context.rejections > 0),
    rejectsCoupon: ({ context }: Ctx) => rejectsCoupon(context),
    rejectsCouponWithRemedy: ({ context }: Ctx) => rejectsCoupon(context) && offerableAction(context) !== null,
    awaitsActionConfirmation: ({ context }: Ctx) => context.expecting === 'actionConfirm' && !!context.pendingAction,
    awaitsAddress: ({ context }: Ctx) => context.expecting === 'address' && !!context.pendingAction,
    bringsAddress: ({ context, event }) =>
      event.type === 'user.message' && context.expecting === 'address' && !!context.pendingAction && addressIn(event.text) !== null,
    confirmsAction: ({ context }: Ctx) =>
      context.expecting === 'actionConfirm' && !!context.pendingAction && meta(context) === 'meta.affirm',
    declinesAction: ({ context }: Ctx) =>
      (context.expecting === 'actionConfirm' || context.expecting === 'address') &&
      (meta(context) === 'meta.deny' || meta(context) === 'meta.goodbye'),
    needsVerification: ({ context }: Ctx) =>
      context.params.verifyGuests && isGuest(context.userId) && (needsOrder(context) || needsAccount(context)),
    bringsVerification: ({ event }) => {
      if (event.type !== 'user.message') return false;
      const slots = extractSlots(event.text);
      return !!slots.orderId && !!slots.phoneLast4;
    },
    verified: ({ event }) => {
      assertEvent(event, 'xstate.done.actor.verifyIdentity');
      return event.output.verified;
    },
    needsOrderSearch: ({ context }: Ctx) => needsOrder(context) && (!context.slots.orderId || namesAnotherProduct(context)),
    needsAccountFacts: ({ context }: Ctx) => needsAccount(context) && context.account === undefined,
    foundOneOrder: ({ context, event }) => {
      assertEvent(event, 'xstate.done.actor.findOrders');
      return candidateOrders(context, event.output.orders).length === 1;
    },
    foundSeveralOrders: ({ context, event }) => {
      assertEvent(event, 'xstate.done.actor.findOrders');
      return candidateOrders(context, event.output.orders).length > 1;
    },
    pickedOrder: ({ context, event }) => event.type === 'user.message' && pickedOrder(context, event.text, event.dtmf) !== undefined,
    bringsOrderId: ({ event }) => event.type === 'user.message' && !!extractSlots(event.text).orderId,
    orderNotFound: ({ event }) => {
      assertEvent(event, 'xstate.done.actor.lookupOrder');
      return !event.output.found;
    },
  },
  actions: {
    beginTurn: assign(({ context, event }) => {
      const message = event.type === 'user.message' ? event : null;
      return {
        turn: context.turn + 1,
        slots: message ? mergeSlots(context.slots, message.text, context.turn + 1) : context.slots,
        text: message?.text ?? '',
        dtmf: message?.dtmf ?? '',
        channel: message?.channel ?? context.channel,
        nlu: null,
        // Read afresh from each message by understanding; a bare key has nothing to read.
        emotion: message && keyOf(message.text, message.dtmf) !== null ? NEUTRAL : null,
        lastPrompt: context.outbox.length > 0 ? withoutRepeatNote(context.outbox) : context.lastPrompt,
        actions: [],
        coupon: null,
        outbox: [],
      };
    }),
    repeatLastPrompt: assign(({ context }: Ctx) => ({
      outbox: say(context, replies.repeating(), ...(context.lastPrompt ?? [])),
    })),
    /** Say one of the fixed replies (machines/replies.ts), optionally noting what the bot now expects. */
    say: assign(({ context }: Ctx, params: { reply: SimpleReply; expecting?: Expecting }) => ({
      outbox: say(context, replies[params.reply]()),
      ...(params.expecting ? { expecting: params.expecting } : {}),
    })),
    storeUnderstanding: assign(({ context, event }) => {
      assertEvent(event, 'xstate.done.actor.understand');
      const nlu = event.output;
      const negative = !!nlu.emotion && NEGATIVE.includes(nlu.emotion.label);
      const top = nlu.candidates[0];
      // The model's verdict when there is one; else the conversational act or the best knowledge topic.
      const lastIntent =
        nlu.intent ??
        (nlu.meta && nlu.metaExact ? { name: nlu.meta, confidence: 1 } : top ? { name: top.intent, confidence: top.score } : null);
      return { nlu, lastIntent, emotion: nlu.emotion ?? null, negativeTurns: (context.negativeTurns ?? 0) + (negative ? 1 : 0) };
    }),
    adoptTopCandidate: assign(({ context }: Ctx) => {
      const top = context.nlu?.candidates[0];
      return top ? adopt(context, context.nlu?.answers[top.intent], top.score) : {};
    }),
    adoptContinuedTopic: assign(({ context }: Ctx) => {
      const here = continuedTopic(context);
      return here && context.topic ? adopt(context, context.topic, here.score) : {};
    }),
    adoptPreviousTopic: assign(({ context }: Ctx) =>
      context.previousTopic ? { ...adopt(context, context.previousTopic, 1), rejections: 0 } : {},
    ),
    adoptPickedCandidate: assign(({ context }: Ctx) => {
      const choice = context.choices[Number(pickedKey(context)) - 1];
      return choice ? adopt(context, context.topicAnswers[choice.intent], 1) : {};
    }),
    presentAnswer: assign(({ context }: Ctx) => {
      const topic = context.topic;
      if (!topic) return {};
      const order = needsOrder(context) ? context.order : null;
      const account = needsAccount(context) ? context.account : null;
      const answer = answerReplies(context, replies.answer(topic), topic.title, topic.solution);
      // Where the order allows the very thing the user asks for, the bot offers to do it instead of asking if it helped.
      const action = offerableAction(context);
      return {
        outbox: say(
          context,
          isUpset(context) ? replies.apologyForFeelings() : null,
          order ? replies.orderFacts(topic.intent, order, order.freeShippingThreshold) : null,
          account ? replies.accountFacts(topic.intent, account) : null,
          answer.outbox[0],
          context.coupon?.issued ? replies.couponIssued(context.coupon.amount) : null,
          // A link cannot be spoken, and no sales pitch comes before the fix (charts that offer after resolution).
          stepwise(context) || action || context.params.offersAfterResolution ? null : replies.offer(topic),
          // An address change needs the new address first; the others only a yes.
          action ? (action.type === 'address_changed' ? replies.askNewAddress(action) : replies.confirmAction(action)) : answer.outbox[1],
        ),
        reading: action ? null : answer.reading,
        pendingAction: action,
        expecting: action ? (action.type === 'address_changed' ? ('address' as const) : ('actionConfirm' as const)) : ('feedback' as const),
        choices: [],
      };
    }),
    presentDetail: assign(({ context }: Ctx) => {
      const detail = topicDetail(context);
      if (!context.topic || !detail) return {};
      return {
        outbox: say(
          context,
          isUpset(context) ? replies.apologyForFeelings() : null,
          replies.detailAnswer(context.topic, detail),
          replies.askIfHelped(),
        ),
        reading: null,
        lastIntent: {
          name: context.topic.intent,
          confidence: context.nlu?.candidates[0]?.score ?? detail.score,
          ...(context.nlu?.intent?.model ? { model: context.nlu.intent.model } : {}),
        },
        expecting: 'feedback' as const,
        choices: [],
      };
    }),
    askForOrderId: assign(({ context }: Ctx) => ({
      outbox: say(context, replies.askOrderId()),
      expecting: 'orderId' as const,
      asked: context.asked.includes('orderId') ? context.asked : [...context.asked, 'orderId' as const],
    })),
    storeOrder: assign(({ event }) => {
      assertEvent(event, 'xstate.done.actor.lookupOrder');
      const out = event.output;
      return { order: out.found ? { ...out.order, freeShippingThreshold: out.freeShippingThreshold } : null };
    }),
    rejectUnknownOrder: assign(({ context }: Ctx) => {
      const { orderId, ...rest } = context.slots;
      return { slots: rest, order: null, outbox: say(context, replies.orderNotFound(orderId?.value ?? '')), expecting: 'orderId' as const };
    }),
    adoptFoundOrder: assign(({ context, event }) => {
      assertEvent(event, 'xstate.done.actor.findOrders');
      const [order] = candidateOrders(context, event.output.orders);
      return order ? { order, slots: { ...context.slots, orderId: { value: order.orderId, turn: context.turn } } } : {};
    }),
    offerOrders: assign(({ context, event }) => {
      assertEvent(event, 'xstate.done.actor.findOrders');
      const orderChoices = candidateOrders(context, event.output.orders);
      return { orderChoices, outbox: say(context, replies.chooseOrder(orderChoices)), expecting: 'orderChoice' as const };
    }),
    adoptPickedOrder: assign(({ context }: Ctx) => {
      const order = pickedOrder(context, context.text, context.dtmf);
      return order ? { order, orderChoices: [], slots: { ...context.slots, orderId: { value: order.orderId, turn: context.turn } } } : {};
    }),
    adoptVerifiedUser: assign(({ context, event }) => {
      assertEvent(event, 'xstate.done.actor.verifyIdentity');
      if (!event.output.verified) return {};
      // Verified: from now on the conversation is the user's; their orders and account are looked up afresh.
      return { userId: event.output.userId, order: null, account: undefined, outbox: say(context, replies.identityVerified()) };
    }),
    storeActionResult: assign(({ context, event }) => {
      assertEvent(event, 'xstate.done.actor.performAction');
      const pending = context.pendingAction;
      if (!pending) return {};
      return {
        actions: [...(context.actions ?? []), actionRecord(pending, event.output)],
        outbox: say(context, replies.actionResult(pending, event.output)),
        pendingAction: null,
        expecting: 'question' as const,
      };
    }),
    /**
     * After the user says it is solved: the topic's conversion offer, tracked by an id — unless the user was upset,
     * rejected a solution of this topic, or is on a channel that cannot show a link.
     */
    storeCoupon: assign(({ context, event }) => {
      assertEvent(event, 'xstate.done.actor.issueCoupon');
      const due = compensation(context);
      if (!due) return {};
      const coupon = event.output;
      return {
        coupon,
        compensated: [...(context.compensated ?? []), due.incidentKey],
        ...(coupon.issued
          ? { actions: [...(context.actions ?? []), { type: 'coupon' as const, id: coupon.id, status: 'issued', amount: coupon.amount, reason: due.reason }] }
          : {}),
      };
    }),
    offerConversion: assign(({ context }: Ctx) => {
      const topic = context.topic;
      if (!context.params.offersAfterResolution || !topic?.conversion || isNegative(context) || context.rejections > 0 || stepwise(context)) return {};
      const perk = context.params.offerPerks?.[context.tier];
      return { outbox: say(context, replies.offer(topic, `offer-${context.conversationId}-${context.turn}`, perk)) };
    }),
    confirmNewAddress: assign(({ context }: Ctx) => {
      const address = addressIn(context.text);
      if (!context.pendingAction || !address) return {};
      const pendingAction = { ...context.pendingAction, address };
      return { pendingAction, outbox: say(context, replies.confirmAction(pendingAction)), expecting: 'actionConfirm' as const };
    }),
    declineAction: assign(({ context }: Ctx) => ({ pendingAction: null, outbox: say(context, replies.actionDeclined()), expecting: 'question' as const })),
    storeAccount: assign(({ event }) => {
      assertEvent(event, 'xstate.done.actor.lookupAccount');
      return { account: event.output.found ? event.output.account : null };
    }),
    sayOrderUnavailable: assign(({ context }: Ctx) => ({ outbox: say(context, replies.orderUnavailable()), order: null })),
    countRejection: assign({ rejections: ({ context }: Ctx) => context.rejections + 1 }),
    presentAlternative: assign(({ context }: Ctx) => {
      if (!context.topic) return {};
      const answer = answerReplies(context, replies.alternative(context.topic), context.topic.title, context.topic.alternative);
      return { outbox: say(context, ...answer.outbox), reading: answer.reading, expecting: 'feedback' as const };
    }),
    speakNextStep: assign(({ context }: Ctx) => {
      const reading = context.reading;
      if (!reading) return {};
      const more = reading.next + 1 < reading.steps.length;
      return {
        outbox: say(
          context,
          reading.next < reading.steps.length ? replies.spokenStep(reading.steps, reading.next) : null,
          replies.spokenKeys(more),
        ),
        reading: { ...reading, next: Math.min(reading.next + 1, reading.steps.length) },
      };
    }),
    offerCandidates: assign(({ context }: Ctx) => {
      const choices = (context.nlu?.candidates ?? []).filter((c) => c.score >= context.params.candidateScore);
      return {
        choices,
        topicAnswers: context.nlu?.answers ?? {},
        outbox: say(context, replies.clarify(choices)),
        expecting: 'choice' as const,
      };
    }),
    askDetailsInGroup: assign(({ context }: Ctx) => {
      const picked = MENU_GROUPS.find((g) => g.key === pickedKey(context));
      if (!picked) return {};
      return {
        reading: null,
        group: picked.group,
        choices: [],
        outbox: say(context, replies.askDetailsInGroup(picked.label)),
        expecting: 'question' as const,
      };
    }),
    showMenu: assign(({ context }: Ctx) => ({ outbox: say(context, replies.menu()), expecting: 'menu' as const, choices: [] })),
    storeHandoff: assign(({ context, event }) => {
      assertEvent(event, 'xstate.done.actor.requestHandoff');
      const { ticketId, status, queue } = event.output;
      return {
        handoff: { status, ticketId, ...(queue ? { queue } : {}) },
        actions: [...(context.actions ?? []), { type: 'handoff' as const, id: ticketId, status, ...(queue ? { queue } : {}) }],
      };
    }),
    /** Tell the user they are queued; a VIP is told a dedicated agent takes over. */
    announceHandoff: assign(({ context }: Ctx) => ({
      outbox: say(context, context.handoff?.queue === VIP_QUEUE ? replies.handoffQueuedVip() : replies.handoffQueued()),
      expecting: 'question' as const,
    })),
    countFailure: assign({ failures: ({ context }: Ctx) => context.failures + 1 }),
  },
});

/** A machine with no states: it carries the registered implementations (XState offers them nowhere else) and the machine type. */
const emptyMachine = conversationSetup.createMachine({ context: ({ input }) => initialContext(input) });
export type ConversationMachine = typeof emptyMachine;
export type ConversationSnapshot = SnapshotFrom<ConversationMachine>;

/** The names a chart may use, by kind; the validator refuses any other. */
export const registeredNames = {
  guards: Object.keys(emptyMachine.implementations.guards),
  actions: Object.keys(emptyMachine.implementations.actions),
  actors: Object.keys(emptyMachine.implementations.actors),
};

/** Inputs for the invoked actors, named by src; computed from the context when the chart invokes them. */
export const actorInputs = {
  understand: (c: ChartContext): UnderstandInput => ({
    conversationId: c.conversationId,
    text: c.text,
    group: c.group ?? (c.topic && FOLLOW_UP.test(c.text.trim()) ? c.topic.intent.split('.')[0] : null),
    ...(c.params.readInTopic
      ? {
          // A message naming another product than the order in context is about something else: read on its own.
          topic: c.topic && !namesAnotherProduct(c)
            ? {
                intent: c.topic.intent,
                prior: c.params.topicPrior,
                detailWeight: c.params.detailWeight,
                ...(c.params.continuation ? { continuation: c.params.continuation } : {}),
              }
            : null,
        }
      : {}),
  }),
  lookupOrder: (c: ChartContext): LookupOrderInput => ({ userId: c.userId, orderId: c.slots.orderId?.value ?? '' }),
  findOrders: (c: ChartContext): UserInput => ({ userId: c.userId }),
  lookupAccount: (c: ChartContext): UserInput => ({ userId: c.userId }),
  issueCoupon: (c: ChartContext): IssueCouponInput => {
    const due = compensation(c);
    return { conversationId: c.conversationId, userId: c.userId, incidentKey: due?.incidentKey ?? '', amount: due?.amount ?? 0, reason: due?.reason ?? '' };
  },
  performAction: (c: ChartContext): PerformActionInput => ({
    conversationId: c.conversationId,
    turn: c.turn,
    userId: c.userId,
    type: c.pendingAction?.type ?? 'order_cancelled',
    orderId: c.pendingAction?.orderId ?? '',
    ...(c.pendingAction?.address ? { address: c.pendingAction.address } : {}),
  }),
  verifyIdentity: (c: ChartContext): VerifyIdentityInput => ({
    conversationId: c.conversationId,
    guestId: c.userId,
    orderId: c.slots.orderId?.value ?? '',
    phoneLast4: c.slots.phoneLast4?.value ?? '',
  }),
  requestHandoff: (c: ChartContext): RequestHandoffInput => ({
    conversationId: c.conversationId,
    userId: c.userId,
    reason: c.rejections >= c.params.maxRejections ? 'solutions_rejected' : c.failures > 0 ? 'bot_failure' : 'user_request',
    ...(c.params.routeQueues ? { queue: handoffQueue(c) } : {}),
  }),
} as const;
export type ActorSrc = keyof typeof actorInputs;
export const isActorSrc = (src: string): src is ActorSrc => src in actorInputs;

/** The context a conversation starts with: empty state plus the chart's parameters. */
export function initialContext(input: ChartInput): ChartContext {
  return {
    conversationId: input.conversationId,
    userId: input.userId,
    channel: input.channel,
    tier: input.tier,
    params: input.params,
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
    emotion: null,
    slots: {},
    asked: [],
    order: null,
    rejections: 0,
    failures: 0,
    handoff: null,
    lastPrompt: [],
    outbox: [],
  };
}


/** The active state as a dotted path, e.g. "answering.awaitingFeedback". */
export function stateName(snapshot: { value: unknown }): string {
  const parts: string[] = [];
  let v = snapshot.value;
  while (v && typeof v === 'object') {
    const [k, child] = Object.entries(v)[0];
    parts.push(k);
    v = child;
  }
  if (typeof v === 'string') parts.push(v);
  return parts.join('.');
}
