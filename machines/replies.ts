import type { Reply, ReplyOption } from '../common/types';
import { accountFactText } from './account-facts';
import type { OrderActionType, PendingAction } from './actions';
import type { ActionResult, AccountView, AnswerView, DetailView, KnownOrder, OrderView, ScoredCandidate } from './types';

// Every sentence the bot says comes from here, so wording is reviewed in one place.

/** Topic groups of the numbered menu; shown even when knowledge retrieval is down. */
export const MENU_GROUPS: ReadonlyArray<{ key: string; group: string; label: string }> = [
  { key: '1', group: 'order', label: '订单、物流与退换货' },
  { key: '2', group: 'account', label: '账号登录与安全' },
  { key: '3', group: 'pay', label: '充值、支付与提现' },
  { key: '4', group: 'creator', label: '创作者：流量、审核、变现' },
  { key: '5', group: 'live', label: '直播开通与收益' },
  { key: '6', group: 'app', label: 'App 使用问题' },
  { key: '7', group: 'content', label: '举报与评论' },
];
export const HUMAN_KEY = '0';
/** Phone keypad: repeat the last prompt, back to the main menu. */
export const REPEAT_KEY = '*';
export const MAIN_MENU_KEY = '#';
/** Phone keypad while steps are read out: the next step, and "solved". */
export const NEXT_STEP_KEY = '1';
export const SOLVED_KEY = '2';

/** Replies that take no arguments: a chart says them with the parameterised `say` action. */
const SIMPLE_REPLIES = [
  'greeting',
  'askHowToHelp',
  'youAreWelcome',
  'askWhatElse',
  'askIfHelped',
  'glad',
  'notUnderstood',
  'understandingFailed',
  'menu',
  'escalating',
  'handoffQueued',
  'handoffHold',
  'handoffUnavailable',
  'outOfScope',
  'complaintHeard',
  'apologyForFeelings',
  'askOrderId',
  'orderUnavailable',
  'goodbye',
  'closedForInactivity',
  'willTry',
  'resolvedItself',
  'askVerification',
  'verificationFailed',
  'actionFailed',
  'couponRejected',
] as const;
export type SimpleReply = (typeof SIMPLE_REPLIES)[number];
export const isSimpleReply = (name: string): name is SimpleReply => (SIMPLE_REPLIES as readonly string[]).includes(name);

const numbered = (steps: string[]) => steps.map((s, i) => `${i + 1}. ${s}`).join('\n');

export const replies = {
  greeting: (): Reply => ({ kind: 'system', text: '您好，我是平台智能客服小暖，很高兴为您服务～' }),
  askHowToHelp: (): Reply => ({ kind: 'question', text: '请问有什么可以帮您？可以直接描述遇到的问题哦。' }),
  youAreWelcome: (): Reply => ({ kind: 'question', text: '不客气～还有其他可以帮您的吗？' }),
  askWhatElse: (): Reply => ({ kind: 'question', text: '好的。请问还有什么问题需要我帮忙吗？' }),

  answer: (a: AnswerView): Reply => ({
    kind: 'answer',
    text: `关于「${a.title}」：${a.solution.summary}\n${numbered(a.solution.steps)}\n温馨提示：${a.policy}`,
  }),
  /** A conversion offer; with an id it is tracked (shown, accepted, converted); `perk` personalises it for the tier. */
  offer: (a: AnswerView, id?: string, perk?: string): Reply | null =>
    a.conversion && {
      kind: 'offer',
      text: `${a.conversion.pitch}（${a.conversion.product}，入口：${a.conversion.entry}）${perk ? perk : ''}`,
      options: [{ key: 'offer', label: `去看看${a.conversion.product}`, intent: a.conversion.link }],
      ...(id ? { offer: { id, product: a.conversion.product, link: a.conversion.link } } : {}),
    },
  askIfHelped: (): Reply => ({
    kind: 'question',
    text: '以上方法能解决您的问题吗？',
    options: [
      { key: 'yes', label: '解决了' },
      { key: 'no', label: '没解决' },
    ],
  }),
  /** A spoken answer: the summary and the first step only, with keypad navigation instead of a long list. */
  spokenAnswer: (title: string, summary: string, steps: string[]): Reply => ({
    kind: 'answer',
    text: `关于「${title}」：${summary}${steps.length ? `第 1 步，${steps[0]}` : ''}`,
  }),
  spokenStep: (steps: string[], index: number): Reply => ({ kind: 'answer', text: `第 ${index + 1} 步，${steps[index]}` }),
  spokenKeys: (moreSteps: boolean): Reply => ({
    kind: 'question',
    text: `${moreSteps ? `按 ${NEXT_STEP_KEY} 听下一步，` : '步骤已经说完了。'}问题解决了请按 ${SOLVED_KEY}，没解决请直接说，按 0 转人工。`,
    options: [
      ...(moreSteps ? [{ key: NEXT_STEP_KEY, label: '下一步' }] : []),
      { key: SOLVED_KEY, label: '解决了' },
      { key: HUMAN_KEY, label: '转人工客服', intent: 'meta.human' },
    ],
  }),
  alternative: (a: AnswerView): Reply => ({
    kind: 'answer',
    text: `抱歉刚才的方法没帮上忙，您可以再试试这个办法：${a.alternative.summary}\n${numbered(a.alternative.steps)}`,
  }),
  detailAnswer: (a: AnswerView, d: DetailView): Reply => ({ kind: 'answer', text: `关于「${a.title}」—${d.question}\n${d.answer}` }),
  willTry: (): Reply => ({
    kind: 'question',
    text: '好的，您先按上面的方法试试。如果还有问题，随时回来直接描述就行，我会接着帮您处理～',
  }),
  resolvedItself: (): Reply => ({ kind: 'question', text: '太好了，已经恢复就好！还有其他需要帮忙的吗？' }),
  glad: (): Reply => ({ kind: 'question', text: '太好了，问题解决就好！还有其他需要帮忙的吗？' }),

  clarify: (choices: ScoredCandidate[]): Reply => ({
    kind: 'question',
    text: `您想咨询的是下面哪一个问题呢？请回复序号：\n${choices.map((c, i) => `${i + 1}. ${c.title}`).join('\n')}\n${HUMAN_KEY}. 都不是，转人工`,
    options: [...choices.map((c, i) => ({ key: String(i + 1), label: c.title, intent: c.intent })), humanOption()],
  }),
  notUnderstood: (): Reply => ({ kind: 'apology', text: '抱歉，我没太理解您的问题。您可以换个说法，或者从下面的话题里选一个：' }),
  understandingFailed: (): Reply => ({
    kind: 'apology',
    text: '非常抱歉，智能问答暂时有点忙，没能查到答案。您可以从下面的话题中选择，我会尽力帮您：',
  }),
  menu: (): Reply => ({
    kind: 'menu',
    text: `${MENU_GROUPS.map((g) => `${g.key}. ${g.label}`).join('\n')}\n${HUMAN_KEY}. 转人工客服`,
    options: [...MENU_GROUPS.map((g) => ({ key: g.key, label: g.label, intent: g.group })), humanOption()],
  }),
  askDetailsInGroup: (label: string): Reply => ({
    kind: 'question',
    text: `好的，关于「${label}」，请简单描述一下您遇到的具体问题，例如发生了什么、在哪一步出错。`,
  }),

  escalating: (): Reply => ({ kind: 'apology', text: '抱歉两种方法都没能解决您的问题，我这就为您转接人工客服。' }),
  handoffQueued: (): Reply => ({
    kind: 'handoff',
    text: '已为您转接人工客服，正在排队中，客服接入后会看到您之前的全部对话，请稍候～',
  }),
  handoffQueuedVip: (): Reply => ({
    kind: 'handoff',
    text: '已为您转接专属客服，专属客服接入后会看到您之前的全部对话，请稍候～',
  }),
  handoffHold: (): Reply => ({ kind: 'system', text: '消息已收到，人工客服接入后会第一时间查看，请您稍候。' }),
  handoffUnavailable: (): Reply => ({
    kind: 'apology',
    text: '非常抱歉，人工客服通道暂时无法接通。您可以先从下面的话题中选择，或稍后再试：',
  }),

  outOfScope: (): Reply => ({
    kind: 'answer',
    text: '抱歉，这个问题不在平台客服的服务范围内，我暂时帮不上忙。账号、订单、支付、创作、直播和 App 使用方面的问题，随时可以问我～',
  }),
  complaintHeard: (): Reply => ({
    kind: 'apology',
    text: '非常抱歉让您有了不好的体验，您的意见我们一定认真对待。能具体说说遇到了什么问题吗？我来帮您处理，也可以回复「转人工」找人工客服。',
  }),
  apologyForFeelings: (): Reply => ({ kind: 'apology', text: '非常抱歉给您带来了不好的体验，我马上帮您处理。' }),

  askOrderId: (): Reply => ({
    kind: 'question',
    text: '为了帮您查询具体情况，请提供订单号（可在「我-订单」里找到，一串以数字组成的编号）。',
  }),
  askNewAddress: (a: PendingAction): Reply => ({
    kind: 'question',
    text: `订单 ${a.orderId}（${a.product}）还没发货，可以改地址。请把新的收货地址发给我（省市区 + 详细地址），我确认后帮您修改。`,
  }),
  confirmAction: (a: PendingAction): Reply => ({
    kind: 'question',
    text: `需要我现在帮您${ACTION_TEXT[a.type].effect}吗？订单 ${a.orderId}（${a.product}）${
      a.address ? `的收货地址将改为「${a.address}」。` : ACTION_TEXT[a.type].consequence
    }回复「确认」办理，或「不用了」。`,
    options: [
      { key: 'yes', label: '确认' },
      { key: 'no', label: '不用了' },
    ],
  }),
  actionResult: (a: PendingAction, r: ActionResult): Reply =>
    r.status === 'done'
      ? { kind: 'answer', text: `已为您${ACTION_TEXT[a.type].effect}（订单 ${a.orderId}，${a.product}）。${ACTION_TEXT[a.type].done}` }
      : { kind: 'apology', text: `抱歉，订单 ${a.orderId} 现在无法${ACTION_TEXT[a.type].effect}${r.reason ? `：${r.reason}` : ''}。需要的话可以回复「转人工」。` },
  couponRejected: (): Reply => ({
    kind: 'apology',
    text: '明白，一张优惠券替代不了把问题解决。我这就为您转接人工客服，优先处理您的问题。',
  }),
  couponIssued: (amount: number): Reply => ({
    kind: 'apology',
    text: `为表歉意，已向您的账户发放一张 ${amount} 元无门槛优惠券（7 天内有效），可在「我-卡券」查看。`,
  }),
  actionDeclined: (): Reply => ({ kind: 'question', text: '好的，暂不办理。还有其他需要帮忙的吗？' }),
  actionFailed: (): Reply => ({
    kind: 'apology',
    text: '抱歉，刚才没能办理成功，您的订单没有变化。请稍后再说一次「确认」，或回复「转人工」由人工客服处理。',
  }),
  askVerification: (): Reply => ({
    kind: 'question',
    text: '为了保护您的账户安全，查询订单或账号前需要先核实身份：请告诉我您的一个订单号，以及账号绑定手机号的后四位（例如：订单号 6921…，尾号 1234）。',
  }),
  verificationFailed: (): Reply => ({
    kind: 'question',
    text: '抱歉，订单号和手机尾号没能对上，请核对后再发一次；也可以按 0 或回复「转人工」由人工客服帮您核实。',
  }),
  identityVerified: (): Reply => ({ kind: 'system', text: '身份已核实，您之前的咨询记录也已关联到您的账号。' }),
  orderNotFound: (orderId: string): Reply => ({
    kind: 'question',
    text: `没有在您的账号下找到订单 ${orderId}，请核对后重新发送订单号。`,
  }),
  orderUnavailable: (): Reply => ({ kind: 'apology', text: '抱歉，订单系统暂时查询不到您的订单详情，先为您提供通用的处理办法：' }),
  chooseOrder: (orders: KnownOrder[]): Reply => ({
    kind: 'question',
    text: `查到您最近有这几笔订单，请问是哪一笔？请回复序号：\n${orders.map((o, i) => `${i + 1}. ${orderLabel(o)}`).join('\n')}\n${HUMAN_KEY}. 都不是，转人工`,
    options: [...orders.map((o, i) => ({ key: String(i + 1), label: orderLabel(o), orderId: o.orderId })), humanOption()],
  }),
  accountFacts: (intent: string, a: AccountView): Reply | null => {
    const text = accountFactText(intent, a);
    return text ? { kind: 'answer', text } : null;
  },
  orderFacts: (intent: string, o: OrderView, threshold: number): Reply | null => {
    const text = orderFactText(intent, o, threshold);
    return text ? { kind: 'answer', text } : null;
  },

  repeating: (): Reply => ({ kind: 'system', text: '好的，再为您重复一遍：' }),
  goodbye: (): Reply => ({ kind: 'system', text: '感谢您的咨询，祝您生活愉快，再见～' }),
  closedForInactivity: (): Reply => ({
    kind: 'system',
    text: '由于长时间没有收到您的消息，本次会话已结束。如有需要，随时再来找我哦～',
  }),
};

/** How each order action is named to the user, what it will do, and what follows once done. */
const ACTION_TEXT: Record<OrderActionType, { effect: string; consequence: string; done: string }> = {
  order_cancelled: {
    effect: '取消订单',
    consequence: '取消后款项原路退回。',
    done: '款项会在 1–3 个工作日内原路退回。',
  },
  address_changed: {
    effect: '修改收货地址',
    consequence: '',
    done: '商家会按新地址发货，发货后可在「我的订单」查看物流。',
  },
  return_opened: {
    effect: '申请退货退款',
    consequence: '申请后按页面提示寄回商品，商家收货后退款。',
    done: '请在 7 天内按「我的订单-退款/售后」里的地址寄回商品，商家签收后退款。',
  },
  reship_requested: {
    effect: '申请补发',
    consequence: '需要您在「我的订单-售后」上传商品照片。',
    done: '请在「我的订单-售后」上传破损或错发商品的照片，审核通过后 48 小时内补发。',
  },
  complaint_filed: {
    effect: '向快递公司投诉物流停滞',
    consequence: '投诉后快递公司会在 24 小时内核查。',
    done: '快递公司会在 24 小时内核查，新的物流动态会推送给您。',
  },
};

const STATUS_LABELS: Record<OrderView['status'], string> = {
  paid: '已付款，待发货',
  shipped: '运输中',
  delivered: '已签收',
  cancelled: '已取消',
  refunding: '退款中',
  refunded: '已退款',
};
/** An order as an option names its number, product and status. */
const orderLabel = (o: OrderView) => `订单 ${o.orderId}｜${o.product}｜${STATUS_LABELS[o.status]}`;

const yuan = (n: number) => `${Number.isInteger(n) ? n : n.toFixed(2)} 元`;

function shipmentText(o: OrderView): string {
  switch (o.status) {
    case 'paid':
      return '已付款，商家还未发货，一般会在付款后 48 小时内发出';
    case 'shipped':
      return `已由${o.carrier ?? '快递'}发出${o.trackingNo ? `，运单号 ${o.trackingNo}` : ''}，正在运输途中${
        o.latestEvent ? `；最新物流（${shortTime(o.latestEvent.at)}）：${o.latestEvent.text}` : ''
      }`;
    case 'delivered':
      return `已签收${o.daysSinceDelivered !== null ? `（${o.daysSinceDelivered} 天前）` : ''}`;
    case 'cancelled':
      return '已取消';
    case 'refunding':
      return '正在退款中，退款会原路退回';
    case 'refunded':
      return '已退款';
  }
}

/** "12-01 09:12" in China time, for logistics events. */
function shortTime(iso: string): string {
  const d = new Date(Date.parse(iso) + 8 * 3_600_000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

/** What the user's own order says about the topic; null when the order adds nothing. */
function orderFactText(intent: string, o: OrderView, threshold: number): string | null {
  const head = `您的订单 ${o.orderId}（${o.product}）`;
  switch (intent) {
    case 'order.status':
    case 'order.logistics':
      return `${head}${shipmentText(o)}。`;
    case 'order.shipping_fee':
      return `${head}实付 ${yuan(o.amount)}，运费 ${yuan(o.shippingFee)}。${
        o.remoteRegion ? '收货地址属于偏远地区，运费按地区另计。' : o.amount >= threshold ? `已满 ${threshold} 元，可以包邮。` : `再凑 ${yuan(threshold - o.amount)}即可满 ${threshold} 元包邮。`
      }`;
    case 'order.free_shipping':
      if (o.remoteRegion) return `${head}的收货地址属于偏远地区，不参加满 ${threshold} 元包邮，运费 ${yuan(o.shippingFee)}。`;
      if (o.amount >= threshold) {
        return `${head}实付 ${yuan(o.amount)}，已满 ${threshold} 元，可以包邮${o.shippingFee > 0 ? `；但订单收取了 ${yuan(o.shippingFee)}运费，您可以申请退还` : ''}。`;
      }
      return `${head}实付 ${yuan(o.amount)}，还差 ${yuan(threshold - o.amount)}才满 ${threshold} 元包邮，目前运费 ${yuan(o.shippingFee)}。`;
    case 'order.return_refund':
      if (o.status === 'paid') return `${head}还没发货，可以直接申请仅退款，运费会一并退回。`;
      if (o.status === 'shipped') return `${head}正在运输中，可以拒收，或签收后再申请退货退款。`;
      if (o.status === 'delivered') {
        const d = o.daysSinceDelivered ?? 0;
        return d <= 7
          ? `${head}签收 ${d} 天，在 7 天无理由退货期内，可以申请退货退款。`
          : `${head}已签收 ${d} 天，超过 7 天无理由退货期；如有质量问题，仍可申请售后。`;
      }
      return `${head}${shipmentText(o)}。`;
    case 'order.cancel':
      return o.status === 'paid'
        ? `${head}还没发货，可以直接取消，款项原路退回。`
        : `${head}${shipmentText(o)}，已无法直接取消${o.status === 'shipped' ? '，可以拒收或签收后申请退货' : ''}。`;
    case 'order.change_address':
      return o.status === 'paid'
        ? `${head}还没发货，可以修改收货地址。`
        : `${head}${shipmentText(o)}，无法再修改地址${o.status === 'shipped' ? '，可联系快递改派' : ''}。`;
    case 'order.damaged_wrong':
      return o.status === 'delivered' ? `${head}已签收，破损、错发或漏发可在签收后 48 小时内凭照片申请售后。` : `${head}${shipmentText(o)}。`;
    default:
      return null;
  }
}

function humanOption(): ReplyOption {
  return { key: HUMAN_KEY, label: '转人工客服', intent: 'meta.human' };
}
