import type { Reply, ReplyOption } from '../common/types';
import type { AnswerView, ScoredCandidate } from './types';

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
  offer: (a: AnswerView): Reply | null =>
    a.conversion && {
      kind: 'offer',
      text: `${a.conversion.pitch}（${a.conversion.product}，入口：${a.conversion.entry}）`,
      options: [{ key: 'offer', label: `去看看${a.conversion.product}`, intent: a.conversion.link }],
    },
  askIfHelped: (): Reply => ({
    kind: 'question',
    text: '以上方法能解决您的问题吗？',
    options: [
      { key: 'yes', label: '解决了' },
      { key: 'no', label: '没解决' },
    ],
  }),
  alternative: (a: AnswerView): Reply => ({
    kind: 'answer',
    text: `抱歉刚才的方法没帮上忙，您可以再试试这个办法：${a.alternative.summary}\n${numbered(a.alternative.steps)}`,
  }),
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
  handoffHold: (): Reply => ({ kind: 'system', text: '消息已收到，人工客服接入后会第一时间查看，请您稍候。' }),
  handoffUnavailable: (): Reply => ({
    kind: 'apology',
    text: '非常抱歉，人工客服通道暂时无法接通。您可以先从下面的话题中选择，或稍后再试：',
  }),

  goodbye: (): Reply => ({ kind: 'system', text: '感谢您的咨询，祝您生活愉快，再见～' }),
  closedForInactivity: (): Reply => ({
    kind: 'system',
    text: '由于长时间没有收到您的消息，本次会话已结束。如有需要，随时再来找我哦～',
  }),
};

function humanOption(): ReplyOption {
  return { key: HUMAN_KEY, label: '转人工客服', intent: 'meta.human' };
}
