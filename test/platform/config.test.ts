import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config.ts';

test('defaults: port 8000 on 0.0.0.0, ./data, PGlite, base URL from the port', (t) => {
  const c = loadConfig({});
  t.is(c.port, 8000);
  t.is(c.host, '0.0.0.0');
  t.is(c.baseUrl, 'http://localhost:8000');
  t.is(c.databaseUrl, undefined);
  t.true(c.dataDir.endsWith('/data'));
  t.is(c.logLevel, 'info');
  t.deepEqual(c.corsOrigins, []);
  t.true(Object.isFrozen(c));
});

test('every bad value is reported at once, each with what to fix', (t) => {
  const err = t.throws(
    () =>
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        LOG_LEVEL: 'loud',
        RINGFENCE_MASTER_KEY: 'short',
        SMTP_URL: 'not a url',
        CORS_ORIGINS: 'https://ok.example,https://bad.example/path',
      }),
    { instanceOf: ConfigError },
  )!;
  t.is(err.problems.length, 6);
  t.regex(err.message, /PORT must be a whole number, got "eighty"/);
  t.regex(err.message, /DATABASE_URL must use one of postgres:, postgresql:/);
  t.regex(err.message, /LOG_LEVEL must be one of/);
  t.regex(err.message, /RINGFENCE_MASTER_KEY must be 32 random bytes/);
  t.regex(err.message, /SMTP_URL must be a URL/);
  t.regex(err.message, /CORS_ORIGINS entries must be origins/);
});

test('production requires a master key', (t) => {
  t.throws(() => loadConfig({ NODE_ENV: 'production' }), { message: /RINGFENCE_MASTER_KEY is required in production/ });
  const c = loadConfig({ NODE_ENV: 'production', RINGFENCE_MASTER_KEY: 'ab'.repeat(32) });
  t.is(c.masterKey?.length, 32);
});

test('the master key is accepted as hex or base64', (t) => {
  const hex = loadConfig({ RINGFENCE_MASTER_KEY: '0f'.repeat(32) }).masterKey!;
  const b64 = loadConfig({ RINGFENCE_MASTER_KEY: hex.toString('base64') }).masterKey!;
  t.deepEqual(hex, b64);
});

test('a port out of range is refused', (t) => {
  t.throws(() => loadConfig({ PORT: '70000' }), { message: /PORT must be between 0 and 65535/ });
});

test('an https BASE_URL needs TRUST_PROXY=true: the service speaks plain HTTP behind a TLS-terminating proxy', (t) => {
  const err = t.throws(() => loadConfig({ BASE_URL: 'https://ringfence.example' }), { instanceOf: ConfigError })!;
  t.deepEqual(err.problems.length, 1);
  t.regex(err.message, /BASE_URL is https:\/\/ but TRUST_PROXY is false/);
  t.regex(err.message, /set TRUST_PROXY=true/);
  t.throws(() => loadConfig({ BASE_URL: 'https://ringfence.example', TRUST_PROXY: 'false' }), { message: /set TRUST_PROXY=true/ });
  const c = loadConfig({ BASE_URL: 'https://ringfence.example/', TRUST_PROXY: 'true' });
  t.is(c.baseUrl, 'https://ringfence.example');
  t.true(c.trustProxy);
  t.false(loadConfig({ BASE_URL: 'http://localhost:8000' }).trustProxy, 'plain http needs no proxy');
});
