// The pages: plain TypeScript modules, one entry per page, built into build/web (served by the app).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (name: string) => fileURLToPath(new URL(`./${name}.html`, import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../build/web', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or styles (the CSP forbids them); no module-preload polyfill (inline code).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: { register: page('register'), login: page('login'), 'sms-login': page('sms-login'), reset: page('reset'), account: page('account'), admin: page('admin'), consent: page('consent'), 'sign-in-continue': page('sign-in-continue') },
    },
  },
});
