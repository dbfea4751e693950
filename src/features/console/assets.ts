/**
 * The console's static files: the scripts and the style sheet in ./assets/, a fixed list read once, so the path
 * parameter can never reach anything else. Served `no-cache` (revalidated on every load, never stale after an
 * upgrade); they hold no personal data.
 */
import { readdirSync, readFileSync } from 'node:fs';

const DIR = new URL('./assets/', import.meta.url);

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

const ASSETS: ReadonlyMap<string, { type: string; body: Buffer }> = new Map(
  readdirSync(DIR)
    .filter((name) => /^[a-z0-9-]{1,64}\.(js|css)$/.test(name))
    .map((name) => [name, { type: TYPES[name.split('.').pop() as string], body: readFileSync(new URL(name, DIR)) }]),
);

export function findConsoleAsset(name: string) {
  return ASSETS.get(name);
}
