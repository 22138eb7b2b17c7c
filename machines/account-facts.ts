import type { AccountView } from './types';

// What the user's own account says about an account topic: which conditions are met, which are missing and the
// step for each missing one. Platform rules written here; the entry's general answer follows in the same turn.

interface Condition {
  label: string;
  met: boolean;
  /** What to do when it is not met. */
  step: string;
}

const SHOWCASE_FOLLOWERS = 1000;
const SHOWCASE_VIDEOS = 10;

function standingStep(a: AccountView): string {
  return a.violation
    ? `账号因「${a.violation}」受限，可在「我-设置-反馈与帮助-账号申诉」提交申诉`
    : '账号受限时可在「我-设置-反馈与帮助-账号申诉」提交申诉';
}

function liveConditions(a: AccountView): Condition[] {
  return [
    { label: '完成实名认证', met: a.realNameVerified, step: '在「我-设置-账号与安全-实名认证」完成认证' },
    { label: '年满 18 周岁', met: a.adult, step: '未满 18 周岁暂时不能开播，成年后即可申请' },
    { label: '绑定手机号', met: a.phoneMasked !== null, step: '在「我-设置-账号与安全-手机号绑定」绑定手机号' },
    { label: '账号状态正常', met: a.status === 'normal', step: standingStep(a) },
  ];
}

function showcaseConditions(a: AccountView): Condition[] {
  return [
    { label: '完成实名认证', met: a.realNameVerified, step: '在「我-设置-账号与安全-实名认证」完成认证' },
    { label: '年满 18 周岁', met: a.adult, step: '未满 18 周岁暂时不能开通橱窗' },
    {
      label: `粉丝数达到 ${SHOWCASE_FOLLOWERS}`,
      met: a.followers >= SHOWCASE_FOLLOWERS,
      step: `还差 ${SHOWCASE_FOLLOWERS - a.followers} 个粉丝，坚持更新优质作品、多和粉丝互动`,
    },
    {
      label: `公开作品达到 ${SHOWCASE_VIDEOS} 个`,
      met: a.publicVideos >= SHOWCASE_VIDEOS,
      step: `还差 ${SHOWCASE_VIDEOS - a.publicVideos} 个公开作品`,
    },
    { label: '账号状态正常', met: a.status === 'normal', step: standingStep(a) },
  ];
}

function checklist(conditions: Condition[], allMet: string): string {
  const met = conditions.filter((c) => c.met).map((c) => c.label);
  const missing = conditions.filter((c) => !c.met);
  if (missing.length === 0) return `查询了您的账号：${met.join('、')}，条件都已满足。${allMet}`;
  return [
    `查询了您的账号：${met.length ? `已满足「${met.join('」「')}」；` : ''}还差 ${missing.length} 项：`,
    ...missing.map((c, i) => `${i + 1}. ${c.label}：${c.step}。`),
  ].join('\n');
}

/** The account's facts for the topic, or null when the account adds nothing to the general answer. */
export function accountFactText(intent: string, a: AccountView): string | null {
  switch (intent) {
    case 'live.permission':
      if (a.livePermission === 'granted') return '查询了您的账号：直播权限已经开通，点底部「+」-「开直播」就能开播。';
      if (a.livePermission === 'revoked') {
        return `查询了您的账号：直播权限已被回收${a.violation ? `（原因：${a.violation}）` : ''}，可在「创作者服务中心-直播权限申诉」申诉。`;
      }
      return `${checklist(liveConditions(a), '在「+」-「开直播」按提示申请即可开通。')}\n粉丝数不影响开播（您现在有 ${a.followers} 个粉丝），开通带货橱窗才需要 ${SHOWCASE_FOLLOWERS} 个粉丝。`;
    case 'live.shopping_cart':
      return checklist(showcaseConditions(a), '在「创作者服务中心-商品橱窗」即可申请开通。');
    case 'account.realname':
      return a.realNameVerified
        ? '查询了您的账号：已经完成实名认证，不需要重复认证。'
        : '查询了您的账号：还没有完成实名认证，按下面的步骤操作即可。';
    case 'account.ban_appeal':
      if (a.status === 'normal') return '查询了您的账号：目前状态正常，没有封禁或功能限制记录。';
      return `查询了您的账号：目前处于${a.status === 'banned' ? '封禁' : '功能受限'}状态${a.violation ? `，原因是「${a.violation}」` : ''}。`;
    case 'account.change_phone':
      return a.phoneMasked
        ? `查询了您的账号：当前绑定的手机号是 ${a.phoneMasked}。`
        : '查询了您的账号：目前没有绑定手机号，可以直接在「我-设置-账号与安全」绑定新号码。';
    case 'pay.recharge': {
      const r = a.lastRecharge;
      if (!r) return null;
      if (r.status === 'pending') return `您 ${r.minutesAgo} 分钟前充值的 ${r.amount} 元（${r.coins} 星币）还在处理中，一般 5 分钟内到账。`;
      if (r.status === 'credited') return `您最近一笔充值 ${r.amount} 元（${r.coins} 星币）已经到账，可在「我的钱包」查看余额。`;
      if (r.status === 'failed') return `您最近一笔充值 ${r.amount} 元没有成功，扣款会在 1–3 个工作日内原路退回。`;
      return `您最近一笔充值 ${r.amount} 元已经退款。`;
    }
    case 'pay.withdraw':
    case 'live.earnings_withdraw': {
      const w = a.lastWithdrawal;
      if (!w) return null;
      if (w.status === 'reviewing') return `您 ${w.hoursAgo} 小时前申请的 ${w.amount} 元提现正在审核中，一般 1–3 个工作日到账。`;
      if (w.status === 'paid') return `您最近一笔 ${w.amount} 元提现已经打款成功。`;
      return `您最近一笔 ${w.amount} 元提现没有成功${w.failureReason ? `（原因：${w.failureReason}）` : ''}，金额已退回钱包余额，处理后可重新申请。`;
    }
    default:
      return null;
  }
}
