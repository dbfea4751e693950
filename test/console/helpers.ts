/** People of the console tests, registered over the API. */
import { randomBytes } from 'node:crypto';
import type { TestApp } from '../helpers/app.ts';

export interface Person {
  name: string;
  email: string;
  handle: string;
  password: string;
  userId: string;
  token: string;
}

export async function registerPerson(app: TestApp, label = 'ada'): Promise<Person> {
  const tag = randomBytes(4).toString('hex');
  const person = {
    name: `${label} Lovelace`,
    email: `${label}.${tag}@example.org`,
    handle: `${label}_${tag}`,
    password: `console ${label} passphrase ${tag}`,
  };
  const res = await app.request('POST', '/api/v1/users/register', { json: person });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return { ...person, userId: res.body.user_id, token: res.body.token };
}

/** A cookie login as the console does it: the Set-Cookie lines (session, then refresh) and the CSRF value. */
export async function cookieLogin(app: TestApp, person: Pick<Person, 'handle' | 'password'>) {
  const res = await app.request('POST', '/api/v1/users/login', { json: { handle: person.handle, password: person.password, session: 'cookie' } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  const [setCookie = '', setRefreshCookie = ''] = res.headers.getSetCookie();
  return {
    res,
    setCookie,
    setRefreshCookie,
    cookie: setCookie.split(';')[0],
    refreshCookie: setRefreshCookie.split(';')[0],
    csrf: res.body.csrf_token as string,
  };
}

/** The value of a `name=value` cookie pair. */
export function cookieValue(pair: string): string {
  return pair.slice(pair.indexOf('=') + 1);
}
