/**
 * The layering of src/ (DESIGN.md, "Repository layout"), checked by `npm test` (`npm run lint:deps`): imports point
 * down this list, never up, and there is no import cycle between files or between folders.
 *
 *   config, errors ← store, crypto, logger ← policy, audit, notify ← disclosure, oidc, profiles ← deps ← features ← http
 *   ← app, service, main
 *
 * `profiles/` is the person's profile store (sealed field rows, the catalogue's value checks), which the account,
 * profile and ring features share. `deps.ts` holds the composition root's types (AppDeps and the handler contract): what the features and the http
 * layer are given. The layers under it define the narrow dependencies they take themselves. Command-line entry
 * points (src/cli/) may import anything.
 */
const layers = [
  ['config', 'errors'],
  ['store', 'crypto', 'logger'],
  ['policy', 'audit', 'notify'],
  ['disclosure', 'oidc', 'profiles'],
  ['deps'],
  ['features'],
  ['http'],
  ['app', 'service', 'main'],
];
const inLayers = (names) => `^src/(${names.join('|')})(/|\\.ts$)`;

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'no import cycle between files',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment: 'no import cycle between folders (features/<a> and features/<b> are folders of their own)',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layers.slice(0, -1).map((names, i) => ({
      name: `layer-${names.join('-')}`,
      comment: `${names.join(', ')} may import only the layers below them`,
      severity: 'error',
      from: { path: inLayers(names) },
      to: { path: inLayers(layers.slice(i + 1).flat()) },
    })),
    {
      name: 'no-unlayered',
      comment: 'every file of src/ belongs to a layer above, or is a command-line entry point in src/cli/',
      severity: 'error',
      from: { path: '^src/', pathNot: [inLayers(layers.flat()), '^src/cli/'] },
      to: {},
    },
    {
      name: 'cli-is-an-entry-point',
      comment: 'nothing imports a command-line entry point',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    // TypeScript 7 has no compiler API for dependency-cruiser to use; swc parses the sources (type-only imports too).
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
  },
};
