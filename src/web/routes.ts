// The pages, built by Vite from web/ into build/web, served by the app itself: no CDN, no external
// fonts. Hashed assets are cached for a year; the HTML is not cached, so a new build shows at once.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

// Two levels up from src/web/ (tsx) and from dist/web/ (the compiled build): the project root.
export const WEB_ROOT = fileURLToPath(new URL('../../build/web/', import.meta.url));

const PAGES: Record<string, string> = {
  '/register': 'register.html',
  '/login': 'login.html',
  '/login/sms': 'sms-login.html',
  '/reset-password': 'reset.html',
  '/account': 'account.html',
  '/admin': 'admin.html',
  '/sign-in/continue': 'sign-in-continue.html',
};

const NOT_BUILT = 'The web pages are not built: run `npm run build` (npm start does it).';

/** Sends one built page (uncached), or a plain 503 when the pages were never built; for routes outside this plugin, which decide what to show. */
export async function sendPage(reply: FastifyReply, file: string): Promise<FastifyReply> {
  const html = await readFile(path.join(WEB_ROOT, file)).catch(() => undefined);
  if (html === undefined) return reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT);
  return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
}

export const webRoutes: FastifyPluginAsync = async (app) => {
  const built = existsSync(WEB_ROOT);
  if (built) {
    await app.register(fastifyStatic, {
      root: `${WEB_ROOT}assets`,
      prefix: '/assets/',
      index: false,
      immutable: true,
      maxAge: '365d',
    });
  }
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/login'));
  for (const [url, file] of Object.entries(PAGES)) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) => {
      if (!built) return reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT);
      return reply.header('cache-control', 'no-cache').sendFile(file, WEB_ROOT, { maxAge: 0 });
    });
  }
};
