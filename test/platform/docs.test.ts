import test from 'ava';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, useTestApp } from '../helpers/app.ts';
import { launchBrowser } from '../helpers/browser.ts';

const app = useTestApp();

test('the contract is served as YAML', async (t) => {
  const res = await app.request('GET', '/openapi.yaml');
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /application\/yaml/);
  t.regex(res.text, /^openapi: 3\.1/);
});

test('an unknown docs asset is a 404, and a path outside the list never reaches the disk', async (t) => {
  t.is((await app.request('GET', '/docs/assets/package.json')).status, 404);
  t.is((await app.request('GET', '/docs/assets/..%2F..%2Fpackage.json')).status, 400);
});

test('the API reference renders in a real browser from local files only, under the CSP', async (t) => {
  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const foreign: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(app.url)) foreign.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  await page.goto(`${app.url}/docs`);
  await page.waitForSelector('text=/healthz', { timeout: 20_000 });
  t.true((await page.locator('.opblock').count()) >= 5, 'every operation is listed');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'api-reference.png') });
  t.deepEqual(foreign, [], 'no request leaves the service (no CDN)');
  t.deepEqual(
    problems.filter((p) => /Content Security Policy|Refused/.test(p)),
    [],
    'no CSP violation',
  );
});
