/**
 * A headless Chromium driven by playwright-core (no browser download by playwright). The system's Chromium is used
 * when there is one (Debian's /usr/bin/chromium, or `chromium` on PATH); otherwise the one shipped in the
 * @sparticuz/chromium package (a devDependency), unpacked once per machine, so that `npm ci && npm test` needs
 * nothing but Node and npm.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { chromium, type Browser } from 'playwright-core';
import { standIn } from './stand-in.ts';

const repoRoot = new URL('../../', import.meta.url).pathname;
const FONTS_CONF = 'ringfence-fonts.conf';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The system's Chromium, if this machine has one. */
function systemChromium(): string | undefined {
  const candidates = [
    '/usr/bin/chromium',
    ...(process.env.PATH ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .map((dir) => path.join(dir, 'chromium')),
  ];
  return candidates.find(executable);
}

/**
 * The Chromium of @sparticuz/chromium, unpacked into a directory of its own under the temp dir. Its
 * `executablePath()` unpacks into the temp dir itself and trusts any file already named `chromium` there, so
 * parallel test processes could start one another's half-written binary: each unpacks in a child process whose
 * TMPDIR is a fresh staging directory, which is then renamed into place (atomic; the first one wins, the others
 * discard theirs).
 */
function packagedChromium(): string {
  const version = (JSON.parse(readFileSync(path.join(repoRoot, 'node_modules/@sparticuz/chromium/package.json'), 'utf8')) as { version: string })
    .version;
  const dir = path.join(tmpdir(), `ringfence-chromium-${version}`);
  const exe = path.join(dir, 'chromium');
  if (executable(exe)) return exe;
  const staging = mkdtempSync(path.join(tmpdir(), 'ringfence-chromium-unpack-'));
  const unpack = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', "const { default: c } = await import('@sparticuz/chromium'); process.stdout.write(await c.executablePath());"],
    { cwd: repoRoot, env: { ...process.env, TMPDIR: staging }, encoding: 'utf8' },
  );
  if (unpack.status !== 0 || unpack.stdout !== path.join(staging, 'chromium')) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`unpacking @sparticuz/chromium failed: ${unpack.stderr || unpack.stdout}`);
  }
  // The package's fonts.conf names AWS Lambda's directories; ours names the fonts it ships and the system's.
  writeFileSync(
    path.join(staging, FONTS_CONF),
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${path.join(dir, 'fonts')}</dir>\n  <dir>/usr/share/fonts</dir>\n  <cachedir>${path.join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
  );
  try {
    renameSync(staging, dir);
  } catch (err) {
    // Another process put its copy in place first: use that one.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(exe)) throw err;
  }
  return exe;
}

/** The Chromium the browser tests use: the system's, else the packaged one. */
function chromiumPath(): string {
  return systemChromium() ?? packagedChromium();
}

export function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  const fontsConf = path.join(path.dirname(executablePath), FONTS_CONF);
  return chromium.launch({
    executablePath,
    headless: true,
    // A bare machine may have no fontconfig set-up at all: the packaged Chromium then uses the fonts it ships.
    ...(existsSync(fontsConf) ? { env: { ...process.env, FONTCONFIG_FILE: fontsConf } } : {}),
    // Our own flags, not @sparticuz/chromium's `args`: those turn off web security and site isolation, which the
    // CORS and CSP tests rely on.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** The test file's Chromium, launched before its tests (after the app) and closed after them. */
export function useBrowser(): Browser {
  const browser = standIn<Browser>('the browser');
  let launched: Browser | undefined;
  test.serial.before(async () => {
    launched = await launchBrowser();
    browser.set(launched);
  });
  test.after.always(async () => {
    await launched?.close();
  });
  return browser.value;
}
