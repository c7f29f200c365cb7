// zh-CN first, English second. The language is the visitor's choice (saved), else the browser's
// (navigator.languages is what it sends as Accept-Language), else zh-CN.
const zh = {
  'app.name': 'Gatehouse',
  'lang.switch': 'English',
  'nav.login': '登录',
  'nav.register': '注册',
  'nav.sms': '短信验证码登录',
  'nav.reset': '忘记密码',
  'nav.account': '我的账户',
  'field.phone': '手机号',
  'field.password': '密码',
  'field.new_password': '新密码',
  'field.current_password': '当前密码（尚未设置可留空）',
  'field.name': '姓名',
  'field.invitation_code': '邀请码',
  'field.captcha': '图形验证码',
  'field.sms_code': '短信验证码',
  'captcha.alt': '图形验证码图片',
  'captcha.refresh': '换一张',
  'captcha.alternative': '看不清图片？改用短信验证码登录',
  'sms.send': '发送验证码',
  'sms.sent': '验证码已发送（如该号码已注册），{s} 秒后可重新发送。',
  'register.title': '注册账户',
  'register.submit': '注册',
  'login.title': '登录',
  'login.submit': '登录',
  'sms.title': '短信验证码登录',
  'reset.title': '重置密码',
  'reset.submit': '重置密码',
  'reset.done': '密码已重置，所有设备已退出登录。请用新密码登录。',
  'account.title': '我的账户',
  'account.profile': '个人信息',
  'account.sessions': '登录中的设备',
  'account.current': '当前设备',
  'account.revoke': '退出该设备',
  'account.logout': '退出登录',
  'account.password': '设置密码',
  'account.password.submit': '保存新密码',
  'account.password.done': '密码已更新，其他设备已退出登录。',
  'account.last_seen': '最近活动',
  'error.attempts_left': '手机号或密码错误，还可再试 {n} 次。',
  'error.locked': '错误次数过多，账户已锁定，请在 {t} 后重试。',
  'error.rate_limited': '请求过于频繁，请在 {t} 后重试。',
  'error.network': '无法连接服务器，请稍后重试。',
  'time.minutes': '{n} 分钟',
  'time.seconds': '{n} 秒',
  'code.VALIDATION_FAILED': '请检查填写的内容。',
  'code.INVALID_PHONE': '手机号格式不正确。',
  'code.WEAK_PASSWORD': '密码太弱：至少 8 位，不要使用常见密码或手机号。',
  'code.INVALID_NAME': '请填写姓名（最多 64 个字符）。',
  'code.CAPTCHA_INVALID': '图形验证码错误，已换一张新的。',
  'code.CAPTCHA_EXPIRED': '图形验证码已过期，已换一张新的。',
  'code.INVALID_INVITATION_CODE': '邀请码无效。',
  'code.INVITATION_EXPIRED': '邀请码已过期。',
  'code.INVITATION_EXHAUSTED': '邀请码的名额已用完。',
  'code.PHONE_TAKEN': '该手机号已注册，请直接登录。',
  'code.INVALID_CREDENTIALS': '手机号或密码错误。',
  'code.INVALID_SMS_CODE': '短信验证码错误或已失效，请重新获取。',
  'code.SMS_CODE_REQUIRED': '该机构注册需要短信验证码。',
  'code.ACCOUNT_DISABLED': '该账户已被停用。',
  'code.UNAUTHENTICATED': '请先登录。',
  'code.OVERLOADED': '服务器繁忙，请稍后重试。',
  'code.STORE_UNAVAILABLE': '服务暂时不可用，请稍后重试。',
  'code.INTERNAL_ERROR': '服务器出错了，请稍后重试。',
};

type Messages = Record<keyof typeof zh, string>;

const en: Messages = {
  'app.name': 'Gatehouse',
  'lang.switch': '中文',
  'nav.login': 'Log in',
  'nav.register': 'Register',
  'nav.sms': 'Log in with an SMS code',
  'nav.reset': 'Forgot password',
  'nav.account': 'My account',
  'field.phone': 'Phone number',
  'field.password': 'Password',
  'field.new_password': 'New password',
  'field.current_password': 'Current password (leave empty if you have none yet)',
  'field.name': 'Name',
  'field.invitation_code': 'Invitation code',
  'field.captcha': 'Characters in the picture',
  'field.sms_code': 'SMS code',
  'captcha.alt': 'Captcha picture',
  'captcha.refresh': 'New picture',
  'captcha.alternative': "Can't read it? Log in with an SMS code instead",
  'sms.send': 'Send code',
  'sms.sent': 'If this number has an account, a code is on its way. You can ask again in {s} seconds.',
  'register.title': 'Create your account',
  'register.submit': 'Register',
  'login.title': 'Log in',
  'login.submit': 'Log in',
  'sms.title': 'Log in with an SMS code',
  'reset.title': 'Reset your password',
  'reset.submit': 'Reset password',
  'reset.done': 'Your password was reset and every device was signed out. Log in with the new password.',
  'account.title': 'My account',
  'account.profile': 'Profile',
  'account.sessions': 'Signed-in devices',
  'account.current': 'this device',
  'account.revoke': 'Sign out this device',
  'account.logout': 'Log out',
  'account.password': 'Set a password',
  'account.password.submit': 'Save new password',
  'account.password.done': 'Password updated; your other devices were signed out.',
  'account.last_seen': 'last active',
  'error.attempts_left': 'Wrong phone number or password. {n} attempts left.',
  'error.locked': 'Too many wrong passwords: this account is locked. Try again in {t}.',
  'error.rate_limited': 'Too many requests. Try again in {t}.',
  'error.network': 'Cannot reach the server. Try again shortly.',
  'time.minutes': '{n} minutes',
  'time.seconds': '{n} seconds',
  'code.VALIDATION_FAILED': 'Please check what you entered.',
  'code.INVALID_PHONE': 'This is not a valid phone number.',
  'code.WEAK_PASSWORD': 'Too weak: at least 8 characters, not a common password, not your phone number.',
  'code.INVALID_NAME': 'Enter your name (at most 64 characters).',
  'code.CAPTCHA_INVALID': 'Wrong characters; here is a new picture.',
  'code.CAPTCHA_EXPIRED': 'The picture expired; here is a new one.',
  'code.INVALID_INVITATION_CODE': 'This invitation code is not valid.',
  'code.INVITATION_EXPIRED': 'This invitation code has expired.',
  'code.INVITATION_EXHAUSTED': 'This invitation code has no places left.',
  'code.PHONE_TAKEN': 'This phone number already has an account: log in instead.',
  'code.INVALID_CREDENTIALS': 'Wrong phone number or password.',
  'code.INVALID_SMS_CODE': 'The SMS code is wrong or no longer valid; ask for a new one.',
  'code.SMS_CODE_REQUIRED': 'This organization needs an SMS code to register.',
  'code.ACCOUNT_DISABLED': 'This account is disabled.',
  'code.UNAUTHENTICATED': 'Please log in first.',
  'code.OVERLOADED': 'The server is busy. Try again in a moment.',
  'code.STORE_UNAVAILABLE': 'The service is briefly unavailable. Try again shortly.',
  'code.INTERNAL_ERROR': 'Something went wrong on our side. Try again shortly.',
};

export type MessageKey = keyof typeof zh;
export type Lang = 'zh-CN' | 'en';
const STORAGE_KEY = 'gatehouse.lang';

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'zh-CN' || saved === 'en') return saved;
  for (const l of navigator.languages ?? [navigator.language]) {
    if (l.toLowerCase().startsWith('zh')) return 'zh-CN';
    if (l.toLowerCase().startsWith('en')) return 'en';
  }
  return 'zh-CN';
}

export let lang: Lang = initialLang();
document.documentElement.lang = lang;

export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  const text = (lang === 'en' ? en : zh)[key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ''));
}

export function hasMessage(key: string): key is MessageKey {
  return key in zh;
}

export function switchLang(): void {
  lang = lang === 'en' ? 'zh-CN' : 'en';
  localStorage.setItem(STORAGE_KEY, lang);
  location.reload();
}

export function duration(seconds: number): string {
  return seconds >= 120 ? t('time.minutes', { n: Math.ceil(seconds / 60) }) : t('time.seconds', { n: seconds });
}
