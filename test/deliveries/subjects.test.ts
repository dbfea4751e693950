/**
 * Pairwise subjects (OpenID Connect Core §8.1, src/oidc/subjects.ts): each service sees a person under its own
 * `sub`, stable at that service, different at another, and only Ringfence turns it back into the person.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { accountForSubject, subjectFor } from '../../src/oidc/subjects.ts';
import { useTestApp } from '../helpers/app.ts';
import { addService } from '../helpers/oidc.ts';
import { DISABLE_AFTER_FAILURES } from '../../src/notify/webhooks.ts';

const app = useTestApp();

test('a pairwise subject is stable per service, differs across services, and inverts only at its own service', async (t) => {
  const deps = app.service.deps;
  const a = (await addService(app, 'government')).service;
  const b = (await addService(app, 'commercial')).service;
  t.is(a.subject_type, 'pairwise', 'pairwise is the default for new services');
  const person = randomUUID();
  const atA = await subjectFor(deps, a.client_id, person);
  t.is(await subjectFor(deps, a.client_id, person), atA, 'stable');
  const atB = await subjectFor(deps, b.client_id, person);
  t.not(atA, atB, 'not correlatable across services');
  t.not(atA, person);
  t.is((await subjectFor(deps, a.client_id, randomUUID())) === atA, false);
  t.is(await accountForSubject(deps, a.client_id, atA), person);
  t.is(await accountForSubject(deps, b.client_id, atA), undefined, "one service cannot use another's subject");
  t.is(await accountForSubject(deps, a.client_id, `${atA.slice(0, -2)}AA`), undefined, 'a forged subject names nobody');
  t.is(await accountForSubject(deps, a.client_id, person), undefined, 'the user id is not a pairwise subject');
  t.is(await accountForSubject(deps, 'svc_unknown', atA), undefined);
});

test('a public service (registered before pairwise subjects) keeps the user id as its subject', async (t) => {
  const deps = app.service.deps;
  const legacy = (await addService(app, 'government', { subjectType: 'public' })).service;
  const person = randomUUID();
  t.is(await subjectFor(deps, legacy.client_id, person), person);
  t.is(await accountForSubject(deps, legacy.client_id, person), person);
  t.is(await accountForSubject(deps, legacy.client_id, 'not-a-uuid'), undefined);
});

test('a pairwise service needs its redirect URIs on one host', async (t) => {
  await t.throwsAsync(addService(app, 'government', { redirectUris: ['https://a.example/cb', 'https://b.example/cb'] }), { message: /one host/ });
  const ok = await addService(app, 'government', { redirectUris: ['https://a.example/cb', 'https://b.example/cb'], subjectType: 'public' });
  t.is(ok.service.subject_type, 'public');
  t.true(DISABLE_AFTER_FAILURES > 1);
});
