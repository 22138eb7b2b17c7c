import type { DataSource } from 'typeorm';
import { PlatformStore, newOrderSchema, newUserSchema } from '../../platform/store';

/** What a line of the script does in the dialogue; only questions open a conversation in the first-turn run. */
export type Act = 'greeting' | 'question' | 'followUp' | 'feedback' | 'pick';

export interface ScriptLine {
  act: Act;
  /** `{order}` stands for the user's own order id. */
  text: string;
}

const line = (act: Act, text: string): ScriptLine => ({ act, text });

/**
 * What the simulated users say: mostly real questions the bot answers from the knowledge graph, across the
 * taxonomy's groups (DESIGN §5), with feedback now and then (thanks, "solved", a rejection), one vague
 * question answered by a numbered pick, and two questions about the user's own order with a follow-up in
 * context. A rejection is always followed by a new topic: two rejections of one topic hand the user to a
 * human, and every later turn of that conversation (`handoff.queued`) would skip understanding.
 *
 * Conversation c starts at line c and cycles, so concurrent conversations are not in lockstep and every
 * window of the script is used. Checked with the in-process floor: no window reaches a handoff.
 */
export const SCRIPT: readonly ScriptLine[] = [
  line('greeting', '你好，想咨询个问题'),
  line('question', '我最近发的视频播放量特别低，是不是被限流了'),
  line('feedback', '试过了，没什么用'),
  line('question', '直播播到一半突然被中断了，提示我违规，怎么回事'),
  line('feedback', '好的明白了，谢谢'),
  line('question', '订单{order}的运费是怎么算的'),
  line('followUp', '那能包邮吗'),
  line('question', '手机号换了，账号怎么换绑到新号码上'),
  line('question', '充了两百星币到现在还没到账'),
  line('question', '视频上传一直失败，每次都卡在百分之九十'),
  line('feedback', '可以了，解决了'),
  line('question', '怎么关掉'), // vague on purpose (popup? notifications? privacy?): the bot offers numbered topics
  line('pick', '1'), // routed without understanding
  line('question', '想开通橱窗带货需要什么条件'),
  line('question', '作品提交两天了，一直显示审核中'),
  line('feedback', '还是不行'),
  line('question', '孩子偷偷用我手机充了好几百，能退回来吗'),
  line('question', '买的东西想开发票，在哪里申请'),
  line('question', '有人一直私信骚扰我，怎么举报他'),
  line('question', '每次打开都弹出一个广告窗口，怎么关掉'),
  line('question', '订单{order}我不想要了，怎么退货退款'),
  line('question', '我的评论老是被删，现在连发都发不出去'),
  line('question', '视频里的背景音乐被静音了是什么原因'),
  line('question', '账号好像被别人登录了，登录记录里有陌生设备'),
  line('question', '下单的时候优惠券为什么用不了'),
  line('question', '直播收到的音浪怎么提现到银行卡'),
];

const QUESTIONS = SCRIPT.filter((l) => l.act === 'question');

/** What the c-th conversation's user says at `turn`. */
export function conversationLine(c: number, turn: number, userId: string): string {
  return withOrder(SCRIPT[(c + turn) % SCRIPT.length].text, userId);
}

/** The first (and only) message of the i-th new conversation in the first-turn run: always a question. */
export function openingLine(i: number, userId: string): string {
  return withOrder(QUESTIONS[i % QUESTIONS.length].text, userId);
}

const withOrder = (text: string, userId: string) => text.replace('{order}', orderIdOf(userId));

/** Each simulated user owns one order in the platform stand-in, its id derived from the user id. */
export function orderIdOf(userId: string): string {
  let hash = 0;
  for (const ch of userId) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `6921${String(hash).padStart(12, '0')}`;
}

/**
 * Each simulated user exists in the platform stand-in and owns one order the script asks about: 39 元 paid plus
 * 6 元 shipping (below the 59 元 free-shipping line), shipped yesterday. Written through the admin API's
 * schemas, so every other field of the stand-in gets its default.
 */
export async function seedBenchUsers(ds: DataSource, users: string[]): Promise<void> {
  const platform = new PlatformStore(ds);
  for (const userId of users) {
    await platform.upsertUser(newUserSchema.parse({ id: userId, nickname: userId }));
    await platform.upsertOrder(
      newOrderSchema.parse({
        id: orderIdOf(userId),
        userId,
        product: '蓝牙耳机',
        amount: 39,
        shippingFee: 6,
        status: 'shipped',
        carrier: '中通快递',
        trackingNo: '75300000000001',
        shippedAt: new Date(Date.now() - 86_400_000).toISOString(),
      }),
    );
  }
}
