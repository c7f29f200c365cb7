// The few pages the provider itself renders (errors, the sign-out confirmation and its result), in
// both of the product's languages, without scripts: the pages of the web app are for the rest.
import { escapeHtml } from './html.js';

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>body{font-family:system-ui,"Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1f2328}h1{font-size:1.4rem}button{font:inherit;padding:.5rem 1rem;margin:.25rem .5rem .25rem 0;cursor:pointer}.primary{background:#0b57d0;color:#fff;border:0;border-radius:4px}.secondary{background:#fff;border:1px solid #888;border-radius:4px}code{word-break:break-all}</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

export function errorPage(out: { error?: string; error_description?: string }): string {
  const code = escapeHtml(out.error ?? 'server_error');
  const description = out.error_description ? `<p><code>${escapeHtml(out.error_description)}</code></p>` : '';
  return page(
    '登录请求无效 · Sign-in request not valid',
    `<h1>登录请求无效</h1><p>发起登录的应用发来的请求有误或已过期。请回到该应用重新登录。</p>
<h1 lang="en">This sign-in request is not valid</h1><p lang="en">The app that sent you here made a request that is wrong or has expired. Go back to the app and sign in again.</p>
<p><code>${code}</code></p>${description}<p><a href="/account">我的账户 · My account</a></p>`,
  );
}

/** `form` is the provider's hidden form (its action and its anti-forgery field); the buttons submit it. */
export function logoutConfirmationPage(form: string, appName: string | undefined): string {
  const from = appName ? `<p>${escapeHtml(appName)}</p>` : '';
  return page(
    '退出登录 · Sign out',
    `${form}<h1>要退出登录吗？</h1><h1 lang="en">Sign out?</h1>${from}
<p>退出后，您在使用本账户登录的所有应用中都需要重新登录。</p><p lang="en">You will have to sign in again in every app you use with this account.</p>
<button class="primary" autofocus type="submit" form="op.logoutForm" value="yes" name="logout">退出 · Sign out</button>
<button class="secondary" type="submit" form="op.logoutForm">保持登录 · Stay signed in</button>`,
  );
}

export function signedOutPage(appName: string | undefined): string {
  const from = appName ? `<p>${escapeHtml(appName)}</p>` : '';
  return page('已退出登录 · Signed out', `<h1>您已退出登录</h1><h1 lang="en">You are signed out</h1>${from}<p><a href="/login">重新登录 · Sign in again</a></p>`);
}
