/**
 * The API reference page: Swagger UI from the local swagger-ui-dist package (no CDN), reading /openapi.yaml.
 * The page has no inline script, so the default Content-Security-Policy (script-src 'self') holds.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const DIST = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ringfence API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`;

const INIT_SCRIPT = `window.ui = SwaggerUIBundle({ url: '/openapi.yaml', dom_id: '#swagger-ui', deepLinking: true });\n`;

/** The files the page may load: a fixed list, so the path parameter can never reach anything else. */
const ASSETS: Record<string, { type: string; load: () => Promise<Buffer | string> }> = {
  'swagger-ui.css': { type: 'text/css; charset=utf-8', load: () => readFile(path.join(DIST, 'swagger-ui.css')) },
  'swagger-ui-bundle.js': {
    type: 'text/javascript; charset=utf-8',
    load: () => readFile(path.join(DIST, 'swagger-ui-bundle.js')),
  },
  'init.js': { type: 'text/javascript; charset=utf-8', load: async () => INIT_SCRIPT },
  'favicon-32x32.png': { type: 'image/png', load: () => readFile(path.join(DIST, 'favicon-32x32.png')) },
};

export function findDocsAsset(name: string) {
  return Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
}
