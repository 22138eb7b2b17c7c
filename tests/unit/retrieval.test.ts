import { describe, it, expect } from 'vitest';
import { Bm25Index } from '../../knowledge/bm25';
import { KnowledgeIndex } from '../../knowledge/retrieval';
import { readContent } from '../../knowledge/store';
import { normalize, tokenize } from '../../knowledge/tokenize';
import chart from '../../machines/charts/conversation.chart.json';

const CANDIDATE_SCORE = chart.params.candidateScore;
import { MENU_GROUPS } from '../../machines/replies';

const { entries, lexicon } = readContent();
const index = new KnowledgeIndex(entries, lexicon);

const words = (terms: string[]) => terms.filter((t) => !t.startsWith('#'));

describe('tokenizing user text', () => {
  it('folds full-width letters and digits, upper case and punctuation', () => {
    expect(normalize('ＨＥＬＬＯ，Ｗｏｒｌｄ！１２３')).toBe('hello world 123');
    expect(normalize('  视频！！上传？？失败…  ')).toBe('视频 上传 失败');
    expect(normalize('视频😭😭卡了')).toBe('视频 卡了');
  });

  it('keeps topic words and drops stopwords and punctuation', () => {
    const terms = tokenize('为什么Ｗｉｆｉ下视频卡？！');
    expect(terms).toContain('wifi');
    expect(terms).toContain('视频');
    expect(terms).toContain('#视频');
    for (const stop of ['为什么', '下', '？', '！']) expect(words(terms)).not.toContain(stop);
    for (const t of words(terms)) expect(t).not.toMatch(/[\s\p{P}]/u);
  });

  it('drops a message made only of function words or punctuation', () => {
    expect(words(tokenize('我的了吗呢'))).toEqual([]);
    expect(tokenize('！！！？？')).toEqual([]);
    expect(tokenize('   ')).toEqual([]);
  });

  it('treats full-width and half-width versions of a message the same', () => {
    expect(tokenize('ＡＰＰ闪退了！')).toEqual(tokenize('app闪退了!'));
  });
});

describe('BM25 ranking', () => {
  it('ranks a document sharing a rare term above one sharing only common terms', () => {
    const bm = new Bm25Index();
    const common = bm.add(['视频', '问题', '怎么办']);
    bm.add(['视频', '问题', '上传']);
    bm.add(['视频', '问题', '审核']);
    const rare = bm.add(['发票', '抬头', '税号']);
    const scores = bm.score(['视频', '问题', '发票']);
    expect(scores.get(rare)!).toBeGreaterThan(scores.get(common)!);
  });

  it('does not score documents that share no term', () => {
    const bm = new Bm25Index();
    bm.add(['快递', '物流']);
    const other = bm.add(['充值', '星币']);
    expect(bm.score(['快递']).has(other)).toBe(false);
  });

  it('never scores a document above the query\'s self-score', () => {
    const bm = new Bm25Index();
    bm.add(['快递', '物流', '不更新']);
    bm.add(['快递', '签收']);
    bm.add(['充值', '星币', '没到账']);
    const q = ['快递', '物流', '不更新'];
    const self = bm.selfScore(q);
    for (const s of bm.score(q).values()) expect(s).toBeLessThanOrEqual(self + 1e-9);
  });
});

describe('knowledge retrieval', () => {
  // Questions written the way users type them; none is copied from the content files.
  const realistic: Array<[string, string]> = [
    ['没有直播按钮怎么开播', 'live.permission'],
    ['我直播的时候被平台掐了', 'live.interrupted'],
    ['直播间右下角那个购物车是怎么弄出来的', 'live.shopping_cart'],
    ['主播收益怎么提现', 'live.earnings_withdraw'],
    ['我拍的视频没人看是不是被限流了', 'creator.low_traffic'],
    ['投了热推结果没效果想退钱', 'creator.promotion'],
    ['发的视频审核了一天还没过', 'creator.review_stuck'],
    ['视频里的背景音乐被消掉了', 'creator.music_copyright'],
    ['粉丝多了以后怎么接商单赚钱', 'creator.monetization'],
    ['验证码一直收不到登不上去', 'account.login'],
    ['人脸识别老是通不过', 'account.realname'],
    ['我的号被封了要怎么解封', 'account.ban_appeal'],
    ['以前的手机号不用了想换一个新号码绑定', 'account.change_phone'],
    ['我不想用这个软件了怎么把账号注销', 'account.deactivate'],
    ['怎么不让别人看到我关注了谁', 'account.privacy'],
    ['买的东西到了是坏的', 'order.damaged_wrong'],
    ['快递三天了物流都没动', 'order.logistics'],
    ['退货的话运费谁出', 'order.shipping_fee'],
    ['买多少钱才包邮', 'order.free_shipping'],
    ['衣服尺码不合适想退掉', 'order.return_refund'],
    ['下错单了怎么取消', 'order.cancel'],
    ['公司报销需要发票去哪开', 'order.invoice'],
    ['结算的时候优惠券用不上', 'order.coupon'],
    ['充的星币一直没到账', 'pay.recharge'],
    ['我家孩子拿我手机给主播刷了好多礼物', 'pay.minor_refund'],
    ['钱包余额怎么提到银行卡', 'pay.withdraw'],
    ['付款的时候老是提示失败', 'pay.failed'],
    ['看视频的时候老是卡住转圈', 'app.playback'],
    ['每次打开都弹出广告怎么关掉', 'app.popup'],
    ['视频发不出去一直卡在百分之九十', 'app.upload_failed'],
    ['晚上老给我推送消息很烦', 'app.notifications'],
    ['给孩子开防沉迷模式', 'app.youth_mode'],
    ['有人冒充我发视频我要举报', 'content.report'],
  ];

  it('uses questions that are not copies of the content examples', () => {
    const examples = new Set(entries.flatMap((e) => e.questions.map((q) => normalize(q).replace(/\s+/g, ''))));
    for (const [q] of realistic) expect(examples.has(normalize(q).replace(/\s+/g, '')), q).toBe(false);
  });

  it.each(realistic)('ranks the right topic first for "%s"', (question, intent) => {
    const [top] = index.search(question);
    expect(top?.intent).toBe(intent);
    expect(top.score).toBeGreaterThanOrEqual(CANDIDATE_SCORE); // good enough to be offered at least
  });

  it('returns scores between 0 and 1, best first, and at most the limit', () => {
    for (const q of ['收不到验证码', '视频', '钱', '退款', '我的快递显示签收了但我没拿到', ...realistic.map(([q]) => q)]) {
      const results = index.search(q, 5);
      expect(results.length).toBeLessThanOrEqual(5);
      for (const r of results) {
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
      }
      for (let i = 1; i < results.length; i++) expect(results[i - 1].score).toBeGreaterThanOrEqual(results[i].score);
    }
  });

  it('matches a one-word message only weakly', () => {
    const [top] = index.search('钱');
    expect(top.score).toBeLessThan(0.45);
  });

  it('finds nothing in punctuation', () => {
    expect(index.search('？？？！')).toEqual([]);
  });
});

describe('conversational acts', () => {
  it.each([
    ['你好', 'meta.greeting'],
    ['您好！', 'meta.greeting'],
    ['Hello', 'meta.greeting'],
    ['谢谢', 'meta.thanks'],
    ['谢谢啦～', 'meta.thanks'],
    ['没用', 'meta.deny'],
    ['没用。', 'meta.deny'],
    ['不行', 'meta.deny'],
    ['解决了', 'meta.affirm'],
    ['OK', 'meta.affirm'],
    ['人工客服', 'meta.human'],
    ['再见', 'meta.goodbye'],
  ])('recognises "%s" as the whole act %s', (text, intent) => {
    expect(index.detectMeta(text)).toEqual({ intent, exact: true });
  });

  it.each([
    ['推广没效果', 'meta.deny'],
    ['这个方法没用', 'meta.deny'],
    ['好的谢谢你', 'meta.thanks'],
    ['问题已经解决了', 'meta.affirm'],
  ])('marks "%s" as only containing %s', (text, intent) => {
    expect(index.detectMeta(text)).toEqual({ intent, exact: false });
  });

  it('hears a request for a human inside a long sentence', () => {
    expect(index.detectMeta('不好意思我想问一下你们这个平台上的订单问题能不能帮我转人工处理一下')).toEqual({
      intent: 'meta.human',
      exact: false,
    });
  });

  it('does not read a long question that happens to thank the bot as thanks', () => {
    expect(index.detectMeta('谢谢你们，我还想问一下充值没到账的事情怎么处理')).toBeUndefined();
  });

  it('finds no act in a plain question', () => {
    expect(index.detectMeta('视频上传失败怎么办')).toBeUndefined();
    expect(index.detectMeta('   ')).toBeUndefined();
  });
});

describe('fallback menu', () => {
  it('offers every knowledge group, so the degraded menu reaches all topics', () => {
    const groups = new Set(entries.map((e) => e.intent.split('.')[0]));
    expect(MENU_GROUPS.map((g) => g.group).sort()).toEqual([...groups].sort());
  });
});

describe('knowledge content', () => {
  const expected = [
    'live.permission', 'live.interrupted', 'live.earnings_withdraw', 'live.shopping_cart',
    'creator.low_traffic', 'creator.promotion', 'creator.review_stuck', 'creator.music_copyright', 'creator.monetization',
    'account.login', 'account.realname', 'account.ban_appeal', 'account.change_phone', 'account.deactivate', 'account.security', 'account.privacy',
    'order.status', 'order.logistics', 'order.shipping_fee', 'order.free_shipping', 'order.return_refund', 'order.cancel',
    'order.change_address', 'order.damaged_wrong', 'order.invoice', 'order.coupon',
    'pay.recharge', 'pay.minor_refund', 'pay.withdraw', 'pay.failed',
    'app.popup', 'app.upload_failed', 'app.playback', 'app.notifications', 'app.youth_mode',
    'content.report', 'content.comment_limited',
  ];

  it.each(expected)('has exactly one entry for %s', (intent) => {
    expect(entries.filter((e) => e.intent === intent)).toHaveLength(1);
  });

  it('points follow-ups only at other existing topics', () => {
    const known = new Set(entries.map((e) => e.intent));
    for (const e of entries) {
      for (const f of e.followups) {
        expect(known.has(f), `${e.intent} → ${f}`).toBe(true);
        expect(f, `${e.intent} follows up on itself`).not.toBe(e.intent);
      }
    }
  });

  it('gives every topic a distinct menu label', () => {
    const labels = entries.map((e) => e.menuLabel);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('has a lexicon entry for every act the chart reacts to', () => {
    for (const act of ['meta.greeting', 'meta.thanks', 'meta.deny', 'meta.affirm', 'meta.human', 'meta.goodbye']) {
      expect(lexicon[act]?.exact.length, act).toBeGreaterThan(0);
    }
  });
});
