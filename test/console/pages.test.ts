/**
 * Every console page over HTTP: HTML under the strict CSP, no-store, no framing, the language chosen by `lang`,
 * the rf_lang cookie or Accept-Language; the assets from a fixed list; the one catalogue complete in every language.
 */
import test from 'ava';
import { spec, useTestApp } from '../helpers/app.ts';
import { LOCALES, catalogueEntries, messagesFor } from '../../src/features/console/catalogue.ts';
import { PAGES } from '../../src/features/console/pages.ts';
import { cookieLogin, registerPerson } from './helpers.ts';

const app = useTestApp();

test('every page is an operation of the spec, tagged console', (t) => {
  for (const page of PAGES) {
    const op = spec.findOperation('GET', page.path);
    t.truthy(op, page.path);
    t.is(op?.tags[0], 'console');
  }
});

test('every page is HTML under the strict CSP, no-store, never framed', async (t) => {
  for (const page of PAGES) {
    const res = await app.request('GET', page.path);
    t.is(res.status, 200, page.path);
    t.regex(res.headers.get('content-type') ?? '', /^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    t.regex(csp, /default-src 'none'/);
    t.regex(csp, /script-src 'self'(;|$)/);
    t.regex(csp, /style-src 'self'(;|$)/);
    t.regex(csp, /frame-ancestors 'none'/);
    t.is(res.headers.get('cache-control'), 'no-store');
    t.notRegex(res.text, /<script(?![^>]*\bsrc=)(?![^>]*type="application\/json")[^>]*>/, 'no inline script');
    t.notRegex(res.text, /<style|style="/, 'no inline style');
    t.false(res.text.includes('rf-csrf'), 'no CSRF value without a session');
  }
});

test('a page opened with the session cookie carries its CSRF value', async (t) => {
  const person = await registerPerson(app);
  const { cookie, csrf } = await cookieLogin(app, person);
  const res = await app.request('GET', '/account', { headers: { cookie } });
  t.true(res.text.includes(`<meta name="rf-csrf" content="${csrf}">`));
});

test('the language: lang, then the rf_lang cookie, then Accept-Language, then English', async (t) => {
  const lang = async (path: string, headers: Record<string, string> = {}) =>
    /<html lang="([^"]+)">/.exec((await app.request('GET', path, { headers })).text)?.[1];
  t.is(await lang('/account/sign-in'), 'en');
  t.is(await lang('/account/sign-in', { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' }), 'zh-Hans');
  t.is(await lang('/account/sign-in', { 'accept-language': 'fr-FR, zh-TW;q=0.8' }), 'zh-Hant');
  t.is(await lang('/account/sign-in', { 'accept-language': 'en;q=0.5, zh-HK' }), 'zh-Hant');
  t.is(await lang('/account/sign-in', { 'accept-language': 'zh-Hant', cookie: 'rf_lang=zh-Hans' }), 'zh-Hans');
  t.is(await lang('/account/sign-in?lang=en', { cookie: 'rf_lang=zh-Hans' }), 'en');
  const zh = await app.request('GET', '/account/sign-in?lang=zh-Hant');
  t.true(zh.text.includes(messagesFor('zh-Hant')['signIn.title']));
  t.is((await app.request('GET', '/account/sign-in?lang=fr')).status, 400);
});

test('the assets are a fixed list', async (t) => {
  const js = await app.request('GET', '/account/assets/console.js');
  t.is(js.status, 200);
  t.regex(js.headers.get('content-type') ?? '', /^text\/javascript/);
  t.is((await app.request('GET', '/account/assets/console.css')).status, 200);
  for (const page of PAGES)
    t.is((await app.request('GET', `/account/assets/${page.id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}.js`)).status, 200);
  t.is((await app.request('GET', '/account/assets/nothing.js')).status, 404);
  t.is((await app.request('GET', '/account/assets/..%2Fpage.ts')).status, 400);
});

test('the catalogue has every message in every language, and every page its section', (t) => {
  for (const { key, texts } of catalogueEntries()) {
    t.is(texts.length, LOCALES.length, key);
    for (const text of texts) t.true(text.trim().length > 0, key);
    const vars = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const text of texts) t.deepEqual(vars(text), vars(texts[0]), `${key}: the same placeholders in every language`);
  }
  for (const page of PAGES) for (const locale of LOCALES) t.truthy(messagesFor(locale)[`${page.id}.title`], `${page.id}.title`);
});
