// What an app connected through single sign-on may know or do, in plain words: the consent page
// asks with these lines and the account page's "Connected apps" lists them, so the user reads the
// same words in both places. No DOM here: the unit test runs it in Node (the page passes its language).

/**
 * The pages' languages, as i18n.ts's `Lang` (which a page passes in; a language added there without a
 * line here fails the pages' type check). Not imported from i18n.ts: the project's own type check,
 * which takes this module in through its unit test, would then check the browser-only i18n.ts too.
 */
export type ScopeLang = 'zh-CN' | 'en';

/** The scopes Gatehouse's OpenID Connect provider grants, in the order the pages list them. */
export const KNOWN_SCOPES = ['openid', 'profile', 'phone', 'organization', 'offline_access'] as const;

export type KnownScope = (typeof KNOWN_SCOPES)[number];

export const SCOPE_LINES: Readonly<Record<KnownScope, Readonly<Record<ScopeLang, string>>>> = {
  openid: { 'zh-CN': '识别您的身份（一个匿名编号）', en: 'Know who you are (an anonymous id)' },
  profile: { 'zh-CN': '您的姓名', en: 'Your name' },
  phone: { 'zh-CN': '您的手机号', en: 'Your phone number' },
  organization: { 'zh-CN': '您所在的机构及您在其中的角色', en: 'Your organization and your role in it' },
  offline_access: { 'zh-CN': '在您未使用时保持连接（刷新令牌）', en: 'Stay connected when you are not using it (refresh)' },
};

function isKnown(scope: string): scope is KnownScope {
  return Object.hasOwn(SCOPE_LINES, scope);
}

/**
 * One line per scope, known ones first in the order above. A scope this page has no words for is
 * shown by its raw name: a user must never be asked to allow, or see as allowed, less than the app gets.
 */
export function scopeLines(scopes: readonly string[], lang: ScopeLang): string[] {
  const unique = [...new Set(scopes)];
  const known = KNOWN_SCOPES.filter((scope) => unique.includes(scope)).map((scope) => SCOPE_LINES[scope][lang]);
  const unknown = unique.filter((scope) => !isKnown(scope));
  return [...known, ...unknown];
}
