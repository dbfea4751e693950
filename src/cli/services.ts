/**
 * `npm run services -- <command>`: registers and manages third-party services against the database the server
 * uses (DATABASE_URL, or the embedded one in DATA_DIR — which only one process may open at a time).
 *
 *   add --name "<name>" --role <role> --redirect-uri <uri> [--redirect-uri <uri>…] [--scope "<scopes>"]
 *       [--webhook-url <url>] [--backchannel-logout-uri <url>] [--logo-uri <url>] [--json]
 *   list [--json]
 *   show <client_id> [--json]
 *   disable <client_id> [--json]
 *   operator <handle>        let this user manage services through the admin API
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { AppError } from '../errors.ts';
import { loadPolicies } from '../policy/load.ts';
import { openStore } from '../store/db.ts';
import { DataDirLocked } from '../store/lock.ts';
import { migrateLatest } from '../store/migrations.ts';
import { disableService, getService, listServices, registerService, type Service } from '../oidc/services.ts';
import { supportedScopes } from '../oidc/scopes.ts';

const USAGE = `usage: npm run services -- <command>
  add --name "<name>" --role <role> --redirect-uri <uri> [--redirect-uri <uri>...] [--scope "<scopes>"]
      [--webhook-url <url>] [--backchannel-logout-uri <url>] [--logo-uri <url>] [--json]
  list [--json]
  show <client_id> [--json]
  disable <client_id> [--json]
  operator <handle>`;

function describe(s: Service): string {
  return [
    `client_id:     ${s.client_id}`,
    `name:          ${s.name}`,
    `role:          ${s.role}`,
    `redirect_uris: ${s.redirect_uris.join(' ')}`,
    `scope:         ${s.scope}`,
    ...(s.webhook_url ? [`webhook_url:   ${s.webhook_url}`] : []),
    ...(s.backchannel_logout_uri ? [`backchannel:   ${s.backchannel_logout_uri}`] : []),
    `created_at:    ${new Date(s.created_at).toISOString()}`,
    `state:         ${s.disabled_at ? `disabled since ${new Date(s.disabled_at).toISOString()}` : 'enabled'}`,
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      role: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      scope: { type: 'string' },
      'webhook-url': { type: 'string' },
      'backchannel-logout-uri': { type: 'string' },
      'logo-uri': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const out = (json: unknown, text: string) => process.stdout.write(`${values.json ? JSON.stringify(json, null, 2) : text}\n`);

  const config = loadConfig();
  const policies = loadPolicies();
  const store = await openStore(config);
  try {
    await migrateLatest(store.db);
    const db = store.db;
    switch (command) {
      case 'add': {
        const { service, clientSecret } = await registerService(
          db,
          {
            name: values.name ?? '',
            role: values.role ?? '',
            redirectUris: values['redirect-uri'] ?? [],
            postLogoutRedirectUris: values['post-logout-redirect-uri'],
            scope: values.scope,
            webhookUrl: values['webhook-url'],
            backchannelLogoutUri: values['backchannel-logout-uri'],
            logoUri: values['logo-uri'],
          },
          new Set(policies.roles.keys()),
          supportedScopes(policies),
        );
        out(
          { ...service, client_secret: clientSecret },
          `${describe(service)}\nclient_secret: ${clientSecret}\n\nThe client secret is shown once and stored only as a hash: keep it now.`,
        );
        return 0;
      }
      case 'list': {
        const all: Service[] = [];
        let after: string | undefined;
        do {
          const page = await listServices(db, { limit: 100, after });
          all.push(...page.services);
          after = page.next;
        } while (after);
        out(all, all.length ? all.map(describe).join('\n\n') : 'no services registered');
        return 0;
      }
      case 'show':
        if (!arg) throw new Error('show needs a client_id');
        {
          const s = await getService(db, arg);
          out(s, describe(s));
        }
        return 0;
      case 'disable':
        if (!arg) throw new Error('disable needs a client_id');
        {
          const s = await disableService(db, arg);
          out(s, `${describe(s)}\n\nIts tokens and grants stop working now.`);
        }
        return 0;
      case 'operator': {
        if (!arg) throw new Error('operator needs a user handle');
        const n = await db('users').whereRaw('handle_lower = ?', [arg.toLowerCase()]).update({ is_operator: true });
        if (n === 0) throw new Error(`no user with handle ${arg}`);
        out({ handle: arg, operator: true }, `${arg} may now manage services through the admin API`);
        return 0;
      }
      default:
        process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
        return 2;
    }
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    // Configuration, lock and validation errors carry sentences meant for the operator; nothing else is expected.
    const expected = err instanceof AppError || err instanceof ConfigError || err instanceof DataDirLocked;
    process.stderr.write(`services: ${expected ? err.message : `failed: ${err.message}`}\n`);
    process.exit(1);
  },
);
