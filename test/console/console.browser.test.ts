/**
 * The console in real headless Chromium, page by page, as a person walks it: sign up, verify the address with the
 * code from the SMTP sink, edit the profile in place, grant a commercial and a government service through the
 * provider's own pages, move home_address through semi-private, private and restricted (and name to private) and
 * read each service's view on "who sees what", agreed by the data API — the shipped policy never lets commercial
 * see home_address (its classification, private, is beyond commercial's ceiling), so the government service is the
 * one that loses it, at restricted — revoke a service with the confirmation step and find it in the activity log.
 * Every destructive action asks first; the session renews while the page is used and lapses when it is not. Every
 * page and state gets axe-core (no serious or critical violation) and a screenshot at phone and desktop widths
 * under test/artifacts/console/.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import axe from 'axe-core';
import * as client from 'openid-client';
import type { BrowserContext, Page } from 'playwright-core';
import { writeCheckpoint } from '../../src/audit/checkpoints.ts';
import { hashToken } from '../../src/crypto/tokens.ts';
import { ARTIFACTS, useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { useBrowser } from '../helpers/browser.ts';
import { dataResource, grantService, registerClient, serviceClientToken, useCallback } from '../helpers/oidc.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { JANE, licencePhoto } from '../credentials/fixtures.ts';
import { register, verificationCode } from '../accounts/fixtures.ts';
import { markDateOfBirthVerified } from '../shares/fixtures.ts';

const app = useTestApp({ smtp: true });
const browser = useBrowser();
const callback = useCallback();

const SHOTS = path.join(ARTIFACTS, 'console');
const WIDTHS = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } } as const;

interface Watch {
  problems: string[];
  foreign: string[];
}

/** A fresh browser context that records CSP violations, script errors and any request leaving the service. */
async function open(t: ExecutionContext, options: { locale?: string } = {}): Promise<{ context: BrowserContext; page: Page; watch: Watch }> {
  const context = await browser.newContext({ locale: options.locale ?? 'en-US', viewport: WIDTHS.desktop });
  t.teardown(() => context.close());
  const page = await context.newPage();
  const watch: Watch = { problems: [], foreign: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) watch.problems.push(m.text());
  });
  page.on('pageerror', (e) => watch.problems.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(app.url) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) watch.foreign.push(r.url());
  });
  return { context, page, watch };
}

/** axe-core injected the way the strict CSP allows (an evaluation, not a <script> tag): serious and critical only. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  const violations = (await page.evaluate(() =>
    (window as unknown as { axe: typeof axe }).axe
      .run(document, { resultTypes: ['violations'] })
      .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }))),
  )) as { id: string; impact: string | null; nodes: string[] }[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.nodes.join(', ')}`);
}

/** axe at both widths and a full-page screenshot at each. */
async function check(t: ExecutionContext, page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  for (const [width, size] of Object.entries(WIDTHS)) {
    await page.setViewportSize(size);
    t.deepEqual(await axeViolations(page), [], `${name} at ${width} width: no serious or critical axe violation`);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(WIDTHS.desktop);
}

async function status(page: Page, text: string | RegExp): Promise<void> {
  await page.locator('#rf-status').filter({ hasText: text }).waitFor();
}

async function codeFor(email: string, after = 0): Promise<string> {
  const mail = await app.smtp.waitFor(
    (m) =>
      /verification code/.test(m.subject ?? '') &&
      (m.to && !Array.isArray(m.to) ? m.to.text : '').includes(email) &&
      (m.date?.getTime() ?? 0) >= after,
  );
  return /(\d{6})/.exec(mail.text ?? '')![1];
}

async function moveField(page: Page, field: string, ring: string): Promise<void> {
  await page.goto(`${app.url}/account/rings`);
  await page.locator('#placements').waitFor();
  await page.getByLabel(field, { exact: true }).selectOption(ring);
  await status(page, `${field} is now in ${ring}.`);
}

async function readerView(page: Page, reader: string) {
  await page.goto(`${app.url}/account/visibility`);
  const section = page.locator(`section[data-reader="${reader}"]`);
  await section.waitFor();
  return {
    sees: await section.locator('[data-list="sees"] li').allInnerTexts(),
    withheld: await section
      .locator('[data-list="withheld"] tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => (c as HTMLElement).innerText))),
  };
}

test.serial(
  'a person signs up, verifies, grants a commercial and a government service, moves home_address from semi-private to private to restricted and name to private, reads each change on "who sees what" (agreed by the data API), revokes a service and finds it in the log',
  async (t) => {
    const { page, watch } = await open(t);
    const tag = randomBytes(4).toString('hex');
    const person = { name: 'Ada Lovelace', email: `ada.${tag}@example.org`, handle: `ada_${tag}`, password: `analytical engine notes ${tag}` };

    // Without a session, the console sends the visitor to sign in.
    await page.goto(`${app.url}/account`);
    await page.waitForURL(/\/account\/sign-in\?next=%2Faccount$/);
    await check(t, page, 'sign-in');

    // Sign up; a guessable password is refused next to its field, from the API's details.
    await page.getByRole('link', { name: 'No account yet? Create one' }).click();
    await page.waitForURL(/\/account\/sign-up$/);
    await check(t, page, 'sign-up');
    await page.getByLabel('Full name').fill(person.name);
    await page.getByLabel('E-mail address').fill(person.email);
    await page.getByLabel('Handle').fill(person.handle);
    await page.getByLabel('Password').fill('password');
    await page.getByRole('button', { name: 'Create account' }).click();
    const passwordError = page.locator('#sign-up-password-error');
    await passwordError.filter({ hasText: /common/ }).waitFor();
    t.is(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
    await check(t, page, 'sign-up-error');
    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/account\/verify-email$/);
    await check(t, page, 'verify-email');

    // The session is a cookie no script can read.
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'rf_session');
    t.truthy(session);
    t.true(session?.httpOnly);
    t.is(session?.sameSite, 'Strict');
    t.is(await page.evaluate(() => document.cookie.includes('rf_session')), false);

    // Verify the address with the code from the mail.
    await page.getByLabel('Code').fill(await codeFor(person.email));
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await status(page, 'Your address is verified.');

    // The profile: every field with its ring and provenance; home_address edited in place.
    await page.goto(`${app.url}/account`);
    await page.locator('#fields').waitFor();
    t.true(await page.locator('#unverified').isHidden(), 'the address is verified');
    const nameRow = page.locator('tr[data-field="name"]');
    t.regex(await nameRow.innerText(), /Ada Lovelace\s.*semi-private\s+registration/s);
    await page.getByRole('button', { name: 'Edit home_address' }).click();
    const editor = page.getByLabel('Edit home_address');
    await editor.fill('{"locality": "Burnaby"');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#edit-home_address-error').filter({ hasText: 'is not valid JSON' }).waitFor();
    await editor.fill(JSON.stringify({ street_address: '4024 Kingsway', locality: 'Burnaby', region: 'BC', postal_code: 'V5H 1Z5', country: 'CA' }));
    await page.getByRole('button', { name: 'Save' }).click();
    await status(page, 'Saved.');
    const addressRow = page.locator('tr[data-field="home_address"]');
    await addressRow.filter({ hasText: 'Kingsway' }).waitFor();
    t.regex(await addressRow.innerText(), /private\s+user/);
    await check(t, page, 'profile');

    // Grant a commercial and a government service through the provider's real sign-in and consent pages.
    const granted = await grantService(app, browser, callback.url, person, 'commercial', 'openid profile address');
    const agency = await grantService(app, browser, callback.url, person, 'government', 'openid profile address');
    const serviceId = granted.service.client_id;
    const agencyId = agency.service.client_id;
    /** What the data API releases to a service now. */
    const read = async (service: typeof granted = granted) => {
      const res = await client.fetchProtectedResource(
        service.config,
        service.dataTokens.access_token,
        new URL(`${dataResource(app)}/profile`),
        'GET',
      );
      return (await res.json()) as { fields: Record<string, unknown> };
    };
    /** The "who sees what" page and the data API, for both services: they must agree on every field. */
    const views = async () => {
      const shop = await readerView(page, `service:${serviceId}`);
      const gov = await readerView(page, `service:${agencyId}`);
      const [shopData, govData] = [(await read(granted)).fields, (await read(agency)).fields];
      for (const [view, data, who] of [
        [shop, shopData, 'commercial'],
        [gov, govData, 'government'],
      ] as const) {
        for (const field of ['name', 'home_address']) {
          t.is(view.sees.includes(field), data[field] !== undefined, `${who}, ${field}: the page and the data API agree`);
        }
      }
      return { shop, gov };
    };
    const withheld = (view: Awaited<ReturnType<typeof readerView>>, field: string) => view.withheld.find((row) => row[0] === field);
    t.is((await read()).fields.name, person.name);

    // home_address to semi-private: the government service sees it; the commercial one still does not — its
    // classification, private, is beyond commercial's ceiling, and the rings page gives the engine's reason.
    await moveField(page, 'home_address', 'semi-private');
    t.regex(await page.locator('#rf-status').innerText(), /Still not visible to: .*\(home_address\): .*private/);
    await check(t, page, 'rings');
    const semiPrivate = await views();
    t.true(semiPrivate.gov.sees.includes('home_address'), 'government sees home_address in semi-private');
    t.true(semiPrivate.shop.sees.includes('name'), 'the commercial service sees name (semi-private)');
    t.false(semiPrivate.shop.sees.includes('home_address'));
    t.deepEqual(withheld(semiPrivate.shop, 'home_address')?.slice(0, 2), ['home_address', 'ceiling'], 'withheld from commercial by its ceiling');
    t.regex(withheld(semiPrivate.shop, 'home_address')?.[2] ?? '', /private/);
    await check(t, page, 'visibility');

    // home_address to private, as the issue says: the government service still sees it (its ceiling is private),
    // the commercial one does not.
    await moveField(page, 'home_address', 'private');
    const inPrivate = await views();
    t.true(inPrivate.gov.sees.includes('home_address'), 'government sees home_address in private');
    t.false(inPrivate.shop.sees.includes('home_address'), 'the commercial service does not see home_address');
    t.is(withheld(inPrivate.shop, 'home_address')?.[1], 'ceiling');

    // home_address to restricted: now the government service loses it too, by the person's setting.
    await moveField(page, 'home_address', 'restricted');
    const restricted = await views();
    t.false(restricted.gov.sees.includes('home_address'), 'government no longer sees home_address');
    t.is(withheld(restricted.gov, 'home_address')?.[1], 'user setting');
    t.regex(withheld(restricted.gov, 'home_address')?.[2] ?? '', /restricted/);
    t.is((await read(agency)).fields.home_address, undefined, 'and the data API agrees');

    // name to private: the commercial service loses a field it saw; the government one keeps it.
    await moveField(page, 'name', 'private');
    const after = await views();
    t.false(after.shop.sees.includes('name'), 'the commercial service no longer sees name');
    t.true(after.gov.sees.includes('name'), 'the government service still sees name');
    t.is(withheld(after.shop, 'name')?.[1], 'user setting');
    t.regex(withheld(after.shop, 'name')?.[2] ?? '', /private/);
    t.is((await read()).fields.name, undefined, 'and the data API agrees');
    await check(t, page, 'visibility-after-move');

    // Services with access: what it sees now, then revoke, with the confirmation step (seed API 8).
    await page.goto(`${app.url}/account/services`);
    const card = page.locator(`section[data-service="${serviceId}"]`);
    await card.waitFor();
    await check(t, page, 'services');
    // With the keyboard: the step opens with its title focused, and Escape cancels it, back to the button.
    const revokeButton = card.getByRole('button', { name: `Revoke access of ${granted.service.name}` });
    await revokeButton.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    t.true(await page.locator('#rf-confirm-title').evaluate((e) => e === document.activeElement), 'the title has the focus');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    t.true(await revokeButton.evaluate((e) => e === document.activeElement), 'focus is back on the button');
    await revokeButton.click();
    await dialog.waitFor();
    t.regex(await dialog.innerText(), new RegExp(`Revoke the access of ${granted.service.name}\\?`));
    await check(t, page, 'services-confirm');
    await dialog.getByRole('button', { name: 'Yes, revoke' }).click();
    await status(page, `The access of ${granted.service.name} is revoked.`);
    await card.waitFor({ state: 'detached' });
    t.is(await page.locator('section[data-service]').count(), 1, 'the government service keeps its access');
    t.true(await page.locator(`section[data-service="${agencyId}"]`).isVisible());
    const refused = await read().catch((err: unknown) => err);
    t.true(refused instanceof client.WWWAuthenticateChallengeError, 'the service is refused at once');

    // The activity log shows the revocation, and the person's history sealed by a signed checkpoint, which the
    // page checks in the browser (signature and inclusion proof). The checkpoint is the job's, in an interval of its
    // own (one second): the app's own pass, a minute's interval, would skip one already written.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
    const signer = { issuer: app.config.baseUrl, key: app.service.deps.issuerKeys.active[0] };
    t.truthy(await writeCheckpoint(app.service.deps.db, signer, { intervalSeconds: 1, keepLeaves: 24 }));
    await page.goto(`${app.url}/account/activity`);
    const revoked = page.locator('tr[data-action="grant.revoked"]');
    await revoked.waitFor();
    t.regex(await revoked.innerText(), new RegExp(serviceId));
    const seal = page.locator('#sealed[data-verified="true"]');
    await seal.waitFor();
    t.regex(await seal.innerText(), /Your history up to event \d+ is sealed/);
    await check(t, page, 'activity');
    await page.getByLabel('Show').selectOption('grant');
    await page.locator('#events tbody tr').first().waitFor();
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#events tbody tr')].every((r) => r.getAttribute('data-action')?.startsWith('grant.')),
    );
    t.true((await page.locator('tr[data-action="data.released"]').count()) === 0);

    // Sessions: sign out of this browser; the console then asks to sign in again.
    await page.goto(`${app.url}/account/sessions`);
    await page.locator('#session').waitFor();
    t.regex(await page.locator('#session-who').innerText(), new RegExp(person.handle));
    await check(t, page, 'sessions');
    await page.getByRole('button', { name: 'Sign out of this browser' }).click();
    await page.waitForURL(/\/account\/sign-in$/);
    t.falsy(
      (await page.context().cookies()).find((c) => c.name === 'rf_session'),
      'logout cleared the cookie',
    );

    // Signing in again, with the keyboard only.
    await page.goto(`${app.url}/account/sign-in?next=%2Faccount%2Factivity`);
    await page.getByLabel('E-mail or handle').focus();
    await page.keyboard.type(person.handle);
    await page.keyboard.press('Tab');
    await page.keyboard.type(person.password);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/account\/activity$/);
    await page.locator('tr[data-action="session.logout"]').waitFor();

    t.deepEqual(watch.problems, [], 'no CSP violation or script error on any page');
    t.deepEqual(watch.foreign, [], 'no request leaves the service');
  },
);

test.serial('forgot and reset password, then sign in with the new one', async (t) => {
  const { page, watch } = await open(t);
  const tag = randomBytes(4).toString('hex');
  const person = { name: 'Grace Hopper', email: `grace.${tag}@example.org`, handle: `grace_${tag}`, password: `compiler pioneer notes ${tag}` };
  const reg = await app.request('POST', '/api/v1/users/register', { json: person });
  t.is(reg.status, 201);

  await page.goto(`${app.url}/account/sign-in`);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.waitForURL(/\/account\/forgot-password$/);
  await page.getByLabel('E-mail address').fill(person.email);
  await page.getByRole('button', { name: 'Send the reset token' }).click();
  await status(page, /reset token is on its way/);
  await check(t, page, 'forgot-password');
  const mail = await app.smtp.waitFor(
    (m) => /Reset your Ringfence password/.test(m.subject ?? '') && (m.to && !Array.isArray(m.to) ? m.to.text : '').includes(person.email),
  );
  const token = /Your reset token: (\S+)/.exec(mail.text ?? '')![1];

  await page.getByRole('link', { name: 'Set a new password' }).click();
  await page.waitForURL(/\/account\/reset-password$/);
  await page.getByLabel('Reset token from the mail').fill('not-the-token');
  await page.getByLabel('New password').fill(`a brand new passphrase ${tag}`);
  await page.getByRole('button', { name: 'Set the password' }).click();
  await page.locator('#reset-token-error, #reset .form-error').filter({ hasText: /./ }).first().waitFor();
  await check(t, page, 'reset-password-error');
  await page.getByLabel('Reset token from the mail').fill(token);
  await page.getByLabel('New password').fill(`a brand new passphrase ${tag}`);
  await page.getByRole('button', { name: 'Set the password' }).click();
  await status(page, 'Your password is changed. Sign in with it.');
  await check(t, page, 'reset-password');

  await page.goto(`${app.url}/account/sign-in`);
  await page.getByLabel('E-mail or handle').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#sign-in .form-error').filter({ hasText: /wrong/ }).waitFor();
  await check(t, page, 'sign-in-error');
  await page.getByLabel('Password').fill(`a brand new passphrase ${tag}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/account$/);
  await page.locator('#fields').waitFor();
  t.deepEqual(watch.problems, []);
});

test.serial('the console speaks the language of Accept-Language, then of the profile', async (t) => {
  const { page, watch } = await open(t, { locale: 'zh-TW' });
  await page.goto(`${app.url}/account/sign-in`);
  t.is(await page.getAttribute('html', 'lang'), 'zh-Hant');
  t.is(await page.locator('h1').innerText(), '登入');
  await check(t, page, 'sign-in-zh-hant');

  const tag = randomBytes(4).toString('hex');
  const person = { name: 'Lin Hui', email: `lin.${tag}@example.org`, handle: `lin_${tag}`, password: `many rivers and mountains ${tag}` };
  const reg = await app.request('POST', '/api/v1/users/register', { json: person });
  await app.request('PUT', '/api/v1/profile/update-info', { token: reg.body.token, json: { updated_fields: { locale: 'zh-CN' } } });
  await page.getByLabel('電子郵件或使用者名稱').fill(person.handle);
  await page.getByLabel('密碼').fill(person.password);
  await page.getByRole('button', { name: '登入' }).click();
  // The profile's locale (zh-CN) wins over the browser's language.
  await page.waitForFunction(() => document.documentElement.lang === 'zh-Hans');
  await page.locator('#fields').waitFor();
  t.is(await page.locator('h1').innerText(), '我的个人资料');
  await check(t, page, 'profile-zh-hans');

  // The person's pick in the header wins from then on.
  await page.getByLabel('语言').selectOption('zh-Hant');
  await page.waitForFunction(() => document.documentElement.lang === 'zh-Hant');
  await page.goto(`${app.url}/account/visibility`);
  await page.locator('section[data-reader="public"]').waitFor();
  t.is(await page.locator('h1').innerText(), '誰能看到什麼');
  await check(t, page, 'visibility-zh-hant');
  t.deepEqual(watch.problems, []);
});

test.serial('custom rings and the ring policy file with its line-numbered errors', async (t) => {
  const { page, watch } = await open(t);
  const tag = randomBytes(4).toString('hex');
  const person = { name: 'Mary Somerville', email: `mary.${tag}@example.org`, handle: `mary_${tag}`, password: `connexion of the sciences ${tag}` };
  t.is((await app.request('POST', '/api/v1/users/register', { json: person })).status, 201);
  await page.goto(`${app.url}/account/sign-in?next=%2Faccount%2Frings`);
  await page.getByLabel('E-mail or handle').fill(person.handle);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/account\/rings$/);
  await page.locator('#placements').waitFor();

  // A custom ring with an unknown field: the error sits next to the fields input.
  const form = page.locator('#new-ring');
  await form.getByLabel('Name').fill('My doctors');
  await form.getByLabel('Fields (comma-separated)').fill('allergies, shoe_size');
  await form.getByLabel('Roles admitted (comma-separated)').fill('healthcare');
  await form.getByRole('button', { name: 'Create ring' }).click();
  await page.locator('#new-ring-fields-error').filter({ hasText: 'shoe_size' }).waitFor();
  await form.getByLabel('Fields (comma-separated)').fill('allergies, medications');
  await form.getByRole('button', { name: 'Create ring' }).click();
  await status(page, 'Saved.');
  const card = page.locator('#custom-rings form[aria-label="My doctors"]');
  await card.waitFor();

  // A second ring, deleted after its confirmation step, which lists the fields going back to their default rings.
  await form.getByLabel('Name').fill('Tax office');
  await form.getByLabel('Fields (comma-separated)').fill('nationality');
  await form.getByLabel('Roles admitted (comma-separated)').fill('government');
  await form.getByRole('button', { name: 'Create ring' }).click();
  const tax = page.locator('#custom-rings form[aria-label="Tax office"]');
  await tax.waitFor();
  t.is(await page.getByLabel('nationality', { exact: true }).inputValue(), (await tax.getAttribute('aria-label')) ?? '');
  await tax.getByRole('button', { name: 'Delete the ring Tax office' }).click();
  const dialog = page.getByRole('alertdialog');
  await dialog.waitFor();
  t.deepEqual(await dialog.locator('li').allInnerTexts(), ['nationality']);
  await check(t, page, 'rings-confirm');
  await dialog.getByRole('button', { name: 'Yes, delete' }).click();
  await status(page, 'The ring Tax office is deleted; its fields are back in their default rings.');
  await tax.waitFor({ state: 'detached' });
  t.not(await page.getByLabel('nationality', { exact: true }).inputValue(), 'Tax office', 'nationality is back in a default ring');
  await card.getByLabel('Fields (comma-separated)').fill('allergies, medications, blood_type');
  await card.getByRole('button', { name: 'Save ring' }).click();
  await status(page, 'Saved.');
  t.true((await page.locator('#policy-yaml').inputValue()).includes('blood_type'), 'the policy file follows');
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download YAML' }).click();
  t.is((await download).suggestedFilename(), 'ring-policy.yaml');

  // A bad file: each problem listed with its line, nothing changed.
  await page.locator('#policy-yaml').fill('version: 1\nplacements:\n  home_address: secret\n');
  await page.getByRole('button', { name: 'Upload YAML' }).click();
  const problem = page.locator('#policy-problems li').first();
  await problem.waitFor();
  t.regex(await problem.innerText(), /^line 3: .*secret/);
  t.regex(await page.locator('#policy-yaml-error').innerText(), /line 3/);
  await check(t, page, 'rings-policy-error');
  await page.locator('#policy-yaml').fill('version: 1\nplacements:\n  bio: semi-private\n');
  await page.getByRole('button', { name: 'Upload YAML' }).click();
  await status(page, 'The ring policy is replaced.');
  t.is(await page.locator('#custom-rings form').count(), 0, 'rings not in the file are gone');
  t.is(await page.getByLabel('bio', { exact: true }).inputValue(), 'semi-private');
  await check(t, page, 'rings-custom');
  t.deepEqual(watch.problems, []);
});

/** A person registered through the API and signed in in the browser (a fresh sign-in: step-up operations pass), on `next`. */
async function signedIn(t: ExecutionContext, next: string, name = 'Jane Quinn Sample', options: { clock?: boolean } = {}) {
  const { page, watch } = await open(t);
  // The page's clock, to be moved on by the test (timers and Date; the server and the cookie jar keep real time).
  if (options.clock) await page.clock.install();
  const tag = randomBytes(4).toString('hex');
  const person = { name, email: `p.${tag}@example.org`, handle: `p_${tag}`, password: `several unrelated words ${tag}` };
  const registered = await app.request('POST', '/api/v1/users/register', { json: person });
  t.is(registered.status, 201);
  await page.goto(`${app.url}/account/sign-in?next=${encodeURIComponent(next)}`);
  await page.getByLabel('E-mail or handle').fill(person.handle);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(new RegExp(`${next.replace(/[/?]/g, '\\$&')}$`));
  return { page, watch, person, token: registered.body.token as string };
}

test.serial('credentials: upload a licence photo, review the checks (authenticity not proven), correct, confirm, delete', async (t) => {
  const { page, watch } = await signedIn(t, '/account/credentials');
  await page.locator('#no-credentials').waitFor();
  await check(t, page, 'credentials-empty');

  // No photo: the API's refusal is shown.
  await page.getByRole('button', { name: 'Read the card' }).click();
  await page.locator('#upload .form-error').filter({ hasText: 'must exist' }).waitFor();

  const photo = await licencePhoto(JANE, { version: 9 }, { tilt: 8, blur: 1, quality: 70 });
  await page.getByLabel('Photo of the back of the card').setInputFiles({ name: 'licence.jpg', mimeType: 'image/jpeg', buffer: photo });
  await page.getByRole('button', { name: 'Read the card' }).click();
  const review = page.locator('#review');
  await review.waitFor();
  t.regex(await page.locator('#authenticity').innerText(), /Not proof of authenticity/);
  t.is(await page.locator('#review-checks li[data-check="not_expired"]').getAttribute('data-verdict'), 'passed');
  t.is(await page.locator('#review-checks li[data-check="issuer_known"]').getAttribute('data-verdict'), 'passed');
  t.is(await page.getByLabel('Value of date_of_birth').inputValue(), '1990-01-31');
  t.is(await page.locator('[data-credential] [data-state]').getAttribute('data-state'), 'pending_confirmation');
  await check(t, page, 'credentials-review');

  // A bad correction is refused next to its field; then a good one, and one field left out.
  await page.getByLabel('Value of home_address').fill('{"locality": ');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.locator('#confirm-home_address-error').filter({ hasText: 'JSON' }).waitFor();
  await page
    .getByLabel('Value of home_address')
    .fill(JSON.stringify({ street_address: '125 Main St', locality: 'Sacramento', region: 'CA', postal_code: '95814', country: 'US' }));
  await page.getByLabel('Write drivers_license_number').uncheck();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await status(page, /^Confirmed: /);
  const confirmed = await page.locator('#rf-status').innerText();
  t.regex(confirmed, /date_of_birth \(credential:[0-9a-f-]+\)/);
  t.regex(confirmed, /home_address \(user\)/);
  t.false(confirmed.includes('drivers_license_number'));
  t.true(await review.isHidden());
  t.is(await page.locator('[data-credential] [data-state]').getAttribute('data-state'), 'confirmed');
  t.regex(await page.locator('[data-credential]').innerText(), /date_of_birth/);
  await page.getByRole('button', { name: /^Show the photo of / }).click();
  await page.locator('[data-credential] img[src^="data:image/jpeg"]').waitFor();
  await check(t, page, 'credentials');

  // Delete, after its confirmation step (which names the fields it verifies): they become self-asserted.
  await page.getByRole('button', { name: /^Delete / }).click();
  const dialog = page.getByRole('alertdialog');
  await dialog.waitFor();
  t.true((await dialog.locator('li').allInnerTexts()).includes('date_of_birth'), 'the step names what the card verifies');
  await check(t, page, 'credentials-confirm');
  await dialog.getByRole('button', { name: 'Yes, delete' }).click();
  await status(page, /^Deleted\. .*date_of_birth/);
  await page.locator('#no-credentials').waitFor();

  // A second photo, rejected from its review.
  await page.getByLabel('Photo of the back of the card').setInputFiles({ name: 'licence.jpg', mimeType: 'image/jpeg', buffer: photo });
  await page.getByRole('button', { name: 'Read the card' }).click();
  await review.waitFor();
  await page.getByRole('button', { name: 'Reject and discard' }).click();
  await status(page, /is rejected/);
  t.is(await page.locator('[data-credential] [data-state]').getAttribute('data-state'), 'rejected');
  t.deepEqual(watch.problems, []);
});

test.serial('health: add a FHIR record (its failing path next to the field), share it with a doctor by link, revoke the link', async (t) => {
  const { page, watch, token } = await signedIn(t, '/account/health');
  await page.locator('#no-records').waitFor();
  const immunization = {
    resourceType: 'Immunization',
    status: 'completed',
    vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '207', display: 'COVID-19 mRNA' }] },
    patient: { reference: 'Patient/me' },
    occurrenceDateTime: '2021-05-10',
  };
  const resource = page.getByLabel('FHIR resource (JSON)');
  await resource.fill(JSON.stringify({ ...immunization, occurrenceDateTime: 'last spring' }));
  await page.getByRole('button', { name: 'Add record' }).click();
  await page.locator('#new-record-resource-error').filter({ hasText: 'Immunization.occurrenceDateTime' }).waitFor();
  t.is(await resource.getAttribute('aria-invalid'), 'true');
  await check(t, page, 'health-record-error');
  await resource.fill(JSON.stringify(immunization));
  await page.getByRole('button', { name: 'Add record' }).click();
  await status(page, 'The record is added.');
  t.is(await page.locator('[data-record]').count(), 1);
  t.regex(await page.locator('[data-record]').innerText(), /Immunization/);
  t.is(await page.locator('[data-record] [data-version]').getAttribute('data-version'), '1');

  // Edited in place (PUT): a bad date is refused next to the field, from the API's details; then saved as version 2.
  await page.getByRole('button', { name: 'Edit this Immunization' }).click();
  const editor = page.getByLabel('The Immunization (FHIR JSON)');
  t.true(await editor.evaluate((e) => e === document.activeElement), 'the editor has the focus');
  t.is(JSON.parse(await editor.inputValue()).occurrenceDateTime, '2021-05-10', 'it opens with the stored resource');
  await editor.fill(JSON.stringify({ ...immunization, occurrenceDateTime: 'the spring after' }));
  await page.getByRole('button', { name: 'Save the record' }).click();
  const editError = page.locator('[data-record] .edit .field-error');
  await editError.filter({ hasText: 'Immunization.occurrenceDateTime' }).waitFor();
  t.is(await editor.getAttribute('aria-invalid'), 'true');
  await check(t, page, 'health-edit-error');
  await editor.fill(JSON.stringify({ ...immunization, resourceType: 'Condition' }));
  await page.getByRole('button', { name: 'Save the record' }).click();
  await editError.filter({ hasText: 'must stay Immunization' }).waitFor();
  await editor.fill(JSON.stringify({ ...immunization, occurrenceDateTime: '2021-06-14' }));
  await check(t, page, 'health-edit');
  await page.getByRole('button', { name: 'Save the record' }).click();
  await status(page, 'The Immunization is saved (version 2).');
  t.is(await page.locator('[data-record] [data-version]').getAttribute('data-version'), '2');
  const stored = await app.request('GET', '/api/v1/profile/health-records?limit=10', { token });
  t.is(stored.body.records[0].resource.occurrenceDateTime, '2021-06-14', 'the API has the new version');
  t.is(stored.body.records[0].version, 2);

  // A link for a doctor: a past expiry is refused, then one made, listed, and revoked.
  const form = page.locator('#new-link');
  await form.getByLabel('Immunization').check();
  await form.getByLabel("Doctor's e-mail address").fill('dr.lee@clinic.example');
  await form.getByLabel('Expires on').fill('2020-01-01');
  await form.getByRole('button', { name: 'Create link' }).click();
  await form.locator('.form-error').filter({ hasText: /past/ }).waitFor();
  await form.getByLabel('Expires on').fill(new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10));
  await form.getByRole('button', { name: 'Create link' }).click();
  await status(page, 'The link is created.');
  t.regex(await page.locator('#link-url').innerText(), /\/share\/[^#]+#.+/);
  const link = page.locator('[data-link]');
  t.is(await link.locator('[data-state]').getAttribute('data-state'), 'active');
  t.regex(await link.innerText(), /dr\.lee@clinic\.example/);
  await check(t, page, 'health');
  // Each destructive action asks first; cancelling changes nothing.
  const dialog = page.getByRole('alertdialog');
  await page.getByRole('button', { name: 'Revoke the link for dr.lee@clinic.example' }).click();
  await dialog.waitFor();
  t.regex(await dialog.innerText(), /Revoke the link for dr\.lee@clinic\.example\?/);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  t.is(await link.locator('[data-state]').getAttribute('data-state'), 'active', 'cancelled: still active');
  await page.getByRole('button', { name: 'Revoke the link for dr.lee@clinic.example' }).click();
  await dialog.getByRole('button', { name: 'Yes, revoke' }).click();
  await status(page, 'The link for dr.lee@clinic.example is revoked.');
  t.is(await link.locator('[data-state]').getAttribute('data-state'), 'revoked');
  await page.getByRole('button', { name: 'Delete this Immunization' }).click();
  await dialog.waitFor();
  t.regex(await dialog.innerText(), /every link that shares it/);
  await check(t, page, 'health-confirm');
  await dialog.getByRole('button', { name: 'Yes, delete' }).click();
  await status(page, 'The record is deleted.');
  await page.locator('#no-records').waitFor();
  t.deepEqual(watch.problems, []);
});

test.serial('emergency: set up the access, get the card, see a trusted contact open it, flag and end it, delete the setup', async (t) => {
  const grace = await register(app, { name: 'Grace Hopper' });
  const code = await verificationCode(app, grace.person.email);
  t.is((await app.request('POST', '/api/v1/auth/verify-email', { token: grace.token, json: { code } })).status, 200);
  const { page, watch, person } = await signedIn(t, '/account/emergency', 'Ada King');
  await page.locator('#setup-state').filter({ hasText: 'Not set up yet.' }).waitFor();
  t.true(await page.locator('#card').isHidden());

  const form = page.locator('#setup');
  await form.getByLabel('Blood type').selectOption('O-');
  await form.getByLabel('Allergies').fill('penicillin, latex');
  await form.getByLabel('Trusted contacts (e-mail addresses)').fill(grace.person.email);
  await form.getByLabel('Text printed on the card').fill('Diabetic, see Ringfence');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.locator('.form-error').filter({ hasText: /\S/ }).waitFor();
  t.is(await page.locator('#rf-status').innerText(), '');
  await check(t, page, 'emergency-error');
  await form.getByLabel('When access may be opened').fill('unconsciousness, unable_to_communicate');
  await form.getByRole('button', { name: 'Save' }).click();
  await status(page, 'Saved.');
  await page.locator('#card-image[src^="data:image/png"]').waitFor();
  t.regex((await page.locator('#card-png').getAttribute('href')) ?? '', /^data:image\/png;base64,/);
  // The printable card, as a PDF fetched with the session (a plain link could not send the CSRF header).
  const pdf = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download the printable card (PDF, wallet size)' }).click();
  const saved = await pdf;
  t.is(saved.suggestedFilename(), 'emergency-card.pdf');
  t.is(
    readFileSync((await saved.path()) ?? '')
      .subarray(0, 5)
      .toString(),
    '%PDF-',
  );
  t.is(await page.getByLabel('Allergies').inputValue(), 'penicillin, latex');

  // The trusted contact opens the access; the person sees it, flags it and ends it.
  const opened = await app.request('POST', '/api/v1/profile/emergency-access/open', {
    token: grace.token,
    json: { email: person.email, reason: 'She collapsed at home', criterion: 'unconsciousness' },
  });
  t.is(opened.status, 200, opened.text);
  await page.reload();
  const access = page.locator(`[data-access="${opened.body.access_log_id}"]`);
  await access.waitFor();
  t.is(await access.locator('[data-state]').getAttribute('data-state'), 'open');
  t.regex(await access.innerText(), /She collapsed at home \(unconsciousness\)/);
  await check(t, page, 'emergency');
  await page.getByRole('button', { name: /^Flag the access of / }).click();
  await status(page, 'The access is flagged for review.');
  t.is(await access.locator('[data-flagged]').getAttribute('data-flagged'), 'true');
  await page.getByRole('button', { name: /^End the access of / }).click();
  await status(page, 'The access is ended.');
  t.is(await access.locator('[data-state]').getAttribute('data-state'), 'ended');

  await page.getByRole('button', { name: 'Delete the emergency setup' }).click();
  const dialog = page.getByRole('alertdialog');
  await dialog.waitFor();
  t.regex(await dialog.innerText(), /Delete your emergency setup\?.*card stops working/s);
  await check(t, page, 'emergency-confirm');
  await dialog.getByRole('button', { name: 'Yes, delete' }).click();
  await status(page, 'The emergency setup is deleted.');
  await page.locator('#card').waitFor({ state: 'hidden' });
  t.deepEqual(watch.problems, []);
});

test.serial('shares and requests: a service asks, the person approves one and declines one, and revokes a share', async (t) => {
  const { page, watch, person, token } = await signedIn(t, '/account/shares');
  await page.locator('#no-shares').waitFor();
  await markDateOfBirthVerified(app, { token });
  const shop = await registerClient(app, 'commercial', { name: 'Corner Shop' });
  const made = await app.request('POST', '/api/v1/profile/share-create', {
    token,
    json: { service_id: shop.service.client_id, info_field: 'age_over_18' },
  });
  t.is(made.status, 201, made.text);
  const serviceToken = await serviceClientToken(app, shop);
  for (const purpose of ['Age check for a wine order', 'Age check for a second order']) {
    const asked = await app.request('POST', '/api/v1/data/requests', {
      token: serviceToken,
      json: { subject: person.handle, fields: ['age_over_18'], purpose },
    });
    t.is(asked.status, 201, asked.text);
  }
  await page.reload();
  await page.locator('[data-request]').nth(1).waitFor();
  t.is(await page.locator('[data-request] [data-state="pending"]').count(), 2);
  t.regex(await page.locator('[data-share]').innerText(), /Corner Shop\s.*age_over_18/s);
  await check(t, page, 'shares');

  await page.locator('[data-request]').filter({ hasText: 'wine order' }).getByRole('button', { name: 'Approve the request of Corner Shop' }).click();
  await status(page, 'The request of Corner Shop is approved; it may collect the share.');
  await page
    .locator('[data-request]')
    .filter({ hasText: 'second order' })
    .getByRole('button', { name: 'Decline the request of Corner Shop' })
    .click();
  await status(page, 'The request of Corner Shop is declined.');
  t.deepEqual((await page.locator('[data-request] [data-state]').evaluateAll((n) => n.map((e) => e.getAttribute('data-state')))).sort(), [
    'approved',
    'declined',
  ]);
  t.is(await page.locator('[data-share]').count(), 2, 'the approval issued a share');

  await page
    .locator(`[data-share="${made.body.share_id}"]`)
    .getByRole('button', { name: /^Revoke the share of age_over_18 with Corner Shop/ })
    .click();
  const dialog = page.getByRole('alertdialog');
  await dialog.waitFor();
  t.regex(await dialog.innerText(), /Revoke the share of age_over_18 with Corner Shop\?/);
  await check(t, page, 'shares-confirm');
  await dialog.getByRole('button', { name: 'Yes, revoke' }).click();
  await status(page, 'The share with Corner Shop is revoked.');
  t.is(await page.locator(`[data-share="${made.body.share_id}"] [data-state]`).getAttribute('data-state'), 'revoked');
  await check(t, page, 'shares-after');
  t.deepEqual(watch.problems, []);
});

test.serial('export and import: the profile leaves as a passphrase file and comes back into a new account; passkeys are one link away', async (t) => {
  const first = await signedIn(t, '/account/portable');
  const exporter = first.page;
  await exporter.getByLabel('Passphrase', { exact: true }).fill('short');
  await exporter.getByRole('button', { name: 'Export my profile' }).click();
  await exporter.locator('#export-passphrase-error').filter({ hasText: /\S/ }).waitFor();
  t.is(await exporter.getByLabel('Passphrase', { exact: true }).getAttribute('aria-invalid'), 'true');
  await check(t, exporter, 'portable-error');
  const passphrase = 'a long passphrase for the move';
  await exporter.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await exporter.getByRole('button', { name: 'Export my profile' }).click();
  await status(exporter, 'Your profile is exported.');
  const href = (await exporter.locator('#export-file').getAttribute('href')) ?? '';
  const container = decodeURIComponent(href.replace(/^data:application\/jose;charset=utf-8,/, ''));
  t.is(container.split('.').length, 5, 'a compact JWE');
  await check(t, exporter, 'portable');

  // The passkeys page, from the navigation.
  await exporter.getByRole('link', { name: 'Passkeys' }).click();
  await exporter.waitForURL(/\/account\/passkeys$/);
  await check(t, exporter, 'passkeys');

  const second = await signedIn(t, '/account/portable', 'Ada Copy');
  await second.page.getByLabel('The exported file (its text)').fill(container);
  await second.page.getByLabel('Passphrase of the file').fill(passphrase);
  await second.page.getByRole('button', { name: 'Import', exact: true }).click();
  await status(second.page, /^Imported from /);
  t.true((await second.page.locator('#import-result li').count()) > 0);
  t.deepEqual(first.watch.problems, []);
  t.deepEqual(second.watch.problems, []);
});

test.serial('sessions and devices: a passkey removed and another sign-in ended, each after its confirmation step', async (t) => {
  const { page, watch, token } = await signedIn(t, '/account/sessions');
  await page.locator('#no-passkeys').waitFor();
  // A passkey on record (what registering one through WebAuthn stores: test/passkeys walks that ceremony itself).
  const me = await app.request('GET', '/api/v1/auth/me', { token });
  const passkeyId = randomUUID();
  await app.service.deps.db('passkeys').insert({
    id: passkeyId,
    user_id: me.body.user_id,
    credential_id: randomBytes(16).toString('base64url'),
    public_key: randomBytes(77),
    transports: JSON.stringify(['internal']),
    name: 'Work laptop',
  });
  await page.reload();
  const key = page.locator(`[data-passkey="${passkeyId}"]`);
  await key.waitFor();
  // This browser and the registration's API sign-in; only the other one can be ended from its card.
  await page.locator('[data-session]').nth(1).waitFor();
  const other = page.locator('[data-session]').filter({ has: page.getByRole('button', { name: /^End: / }) });
  t.is(await other.count(), 1);
  t.regex(await page.locator('[data-session]').first().innerText(), /^This browser/);
  await check(t, page, 'sessions-devices');

  const dialog = page.getByRole('alertdialog');
  await key.getByRole('button', { name: 'Remove the passkey Work laptop' }).click();
  await dialog.waitFor();
  t.regex(await dialog.innerText(), /Remove the passkey Work laptop\?.*signs you in no more/s);
  await check(t, page, 'sessions-confirm');
  await dialog.getByRole('button', { name: 'Yes, remove' }).click();
  await status(page, 'The passkey Work laptop is removed.');
  await page.locator('#no-passkeys').waitFor();
  t.deepEqual((await app.request('GET', '/api/v1/profile/passkeys', { token })).body.passkeys, []);

  await other.getByRole('button', { name: /^End: / }).click();
  await dialog.getByRole('button', { name: 'Yes, end it' }).click();
  await status(page, 'The session is ended.');
  assertError(t, await app.request('GET', '/api/v1/auth/me', { token }), 401, 'token_revoked');
  t.is(await page.locator('[data-session]').count(), 1, 'this browser stays signed in');
  t.deepEqual(watch.problems, []);
});

test.serial('the session renews while the console is used, keeps its CSRF value, and lapses when left alone', async (t) => {
  const { page, watch } = await signedIn(t, '/account/sessions', 'Ada Clock', { clock: true });
  await page.locator('#session').waitFor();
  const cookie = async () => (await page.context().cookies()).find((c) => c.name === 'rf_session')?.value ?? '';
  const csrf = () => page.evaluate(() => document.querySelector('meta[name="rf-csrf"]')?.getAttribute('content') ?? '');
  const apiStatus = async () => {
    const value = await csrf();
    return page.evaluate(
      async (header) => (await fetch('/api/v1/auth/me', { headers: { 'x-csrf-token': header }, credentials: 'same-origin' })).status,
      value,
    );
  };
  const first = await cookie();
  const proof = await csrf();

  // In use (a key pressed), 11 of the token's 15 minutes pass: the page renews, one rotation, the same CSRF value.
  await page.keyboard.press('Tab');
  await page.clock.fastForward('11:00');
  for (let i = 0; i < 100 && (await cookie()) === first; i++) await new Promise((r) => setTimeout(r, 50));
  const second = await cookie();
  t.not(second, first, 'the cookie holds a new token');
  const db = app.service.deps.db;
  const old = await db('sessions')
    .where({ access_hash: hashToken(first) })
    .first();
  const renewed = await db('sessions')
    .where({ access_hash: hashToken(second) })
    .first();
  t.is(renewed.family_id, old.family_id, 'the same login');
  t.true(new Date(old.access_expires_at).getTime() - Date.now() <= 30_000, 'the old token ends within 30 seconds');
  // Past the first token's life, the page's calls still work, with the CSRF value it was given.
  await db('sessions')
    .where({ id: old.id })
    .update({ access_expires_at: new Date(Date.now() - 1000) });
  t.is(await apiStatus(), 200);
  t.is(await csrf(), proof);

  // Left alone past the renewal point: no renewal. When the token runs out, the console asks to sign in again.
  await page.clock.fastForward('11:00');
  await new Promise((r) => setTimeout(r, 500));
  t.is(await cookie(), second, 'no renewal without use');
  await db('sessions')
    .where({ access_hash: hashToken(second) })
    .update({ access_expires_at: new Date(Date.now() - 1000) });
  await page.reload();
  await page.waitForURL(/\/account\/sign-in\?next=%2Faccount%2Fsessions$/);
  t.deepEqual(watch.problems, []);
});
