/**
 * `npm run services -- <command>`: registers and manages third-party services against the database the server
 * uses (DATABASE_URL, or the embedded one in DATA_DIR — which only one process may open at a time).
 *
 *   add --name "<name>" --role <role> --redirect-uri <uri> [--redirect-uri <uri>…] [--scope "<scopes>"]
 *       [--webhook-url <url>] [--backchannel-logout-uri <url>] [--logo-uri <url>] [--json]
 *   list [--json]
 *   show <client_id> [--json]
 *   disable <client_id> [--json]
 *   webhook <client_id> --url <url> [--format standard-webhooks|ssf] | --remove [--json]
 *                            set the webhook URL: Standard Webhooks with a new signing secret, shown once, or SSF
 *                            (CAEP events as SETs signed with the issuer key, pushed per RFC 8935)
 *   deliveries list [--state failed|dropped|pending|delivered] [--service <client_id>] [--json]
 *   deliveries replay <delivery_id> | --all-failed [--json]
 *   deliveries fanouts [--json]       the webhook fan-outs given up on (changes no service was told of); replay
 *                                     --all-failed queues them again
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
import { configureWebhook, ssfConfigurationUrl } from '../features/deliveries/deliveries.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { Keyring } from '../crypto/envelope.ts';
import { loadKek, MASTER_KEY_FILE } from '../crypto/kek.ts';
import { listFailedFanOuts, Outbox, requeueFailedFanOuts } from '../notify/outbox.ts';
import { issueWebhookSecret, listDeliveries, reachableEndpoints, replayDelivery, type DeliveryView } from '../notify/webhooks.ts';
import { enqueueServiceDisabled } from '../oidc/grant-events.ts';
import { withTransaction } from '../store/db.ts';
import type { Config } from '../config.ts';
import { supportedScopes } from '../oidc/scopes.ts';

const USAGE = `usage: npm run services -- <command>
  add --name "<name>" --role <role> --redirect-uri <uri> [--redirect-uri <uri>...] [--scope "<scopes>"]
      [--webhook-url <url>] [--backchannel-logout-uri <url>] [--logo-uri <url>] [--json]
  list [--json]
  show <client_id> [--json]
  disable <client_id> [--json]
  webhook <client_id> --url <url> [--format standard-webhooks|ssf] | --remove [--json]
  deliveries list [--state failed|dropped|pending|delivered] [--service <client_id>] [--json]
  deliveries replay <delivery_id> | --all-failed [--json]
  deliveries fanouts [--json]
  operator <handle>`;

/** The server's KEK (sealing webhook secrets, queueing events), never a new one. */
function serverKeyring(config: Config): Keyring {
  const devKey = path.join(config.dataDir, MASTER_KEY_FILE);
  if (!config.masterKey && (config.env === 'production' || !existsSync(devKey))) {
    throw new Error(`no master key: set RINGFENCE_MASTER_KEY to the key the server runs with (in development the server keeps it in ${devKey})`);
  }
  return new Keyring(loadKek(config, pino({ level: 'silent' })));
}

function describeDelivery(d: DeliveryView): string {
  return `${d.delivery_id}  ${d.state.padEnd(9)} ${d.type.padEnd(15)} ${d.service_id}  attempts ${d.attempts}  ${d.created_at}${
    d.last_status ? `  last HTTP ${d.last_status}` : ''
  }${d.last_error ? `  (${d.last_error})` : ''}${d.endpoint_disabled_at ? '  endpoint disabled' : ''}`;
}

function describe(s: Service): string {
  return [
    `client_id:     ${s.client_id}`,
    `name:          ${s.name}`,
    `role:          ${s.role}`,
    `redirect_uris: ${s.redirect_uris.join(' ')}`,
    `scope:         ${s.scope}`,
    `subject_type:  ${s.subject_type}`,
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
      'subject-type': { type: 'string' },
      url: { type: 'string' },
      format: { type: 'string', default: 'standard-webhooks' },
      remove: { type: 'boolean', default: false },
      state: { type: 'string' },
      service: { type: 'string' },
      'all-failed': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, arg, arg2] = positionals;
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
        const webhook = values['webhook-url'] ? serverKeyring(config) : undefined;
        const { service, clientSecret, webhookSecret } = await withTransaction(db, async (trx) => {
          const registered = await registerService(
            trx,
            {
              name: values.name ?? '',
              role: values.role ?? '',
              redirectUris: values['redirect-uri'] ?? [],
              postLogoutRedirectUris: values['post-logout-redirect-uri'],
              scope: values.scope,
              webhookUrl: values['webhook-url'],
              backchannelLogoutUri: values['backchannel-logout-uri'],
              logoUri: values['logo-uri'],
              subjectType: values['subject-type'] as 'pairwise' | 'public' | undefined,
            },
            new Set(policies.roles.keys()),
            supportedScopes(policies),
          );
          const secret = webhook ? await issueWebhookSecret(trx, webhook, registered.service.client_id) : undefined;
          return { ...registered, webhookSecret: secret };
        });
        out(
          { ...service, client_secret: clientSecret, ...(webhookSecret ? { webhook_secret: webhookSecret } : {}) },
          `${describe(service)}\nclient_secret: ${clientSecret}${webhookSecret ? `\nwebhook_secret: ${webhookSecret}` : ''}\n\nThe client secret is shown once and stored only as a hash${
            webhookSecret ? '; the webhook signing secret (Standard Webhooks) is shown once too' : ''
          }: keep it now.`,
        );
        return 0;
      }
      case 'webhook': {
        if (!arg || (!values.url && !values.remove)) throw new Error('webhook needs a client_id and --url <url> (or --remove)');
        const format = values.format;
        if (format !== 'standard-webhooks' && format !== 'ssf') throw new Error('--format is standard-webhooks or ssf');
        const keyring = serverKeyring(config);
        const result = await withTransaction(db, (trx) => configureWebhook(trx, keyring, arg, values.remove ? null : values.url!, format));
        const ssf = result.format === 'ssf' ? ssfConfigurationUrl(config.baseUrl) : undefined;
        out(
          {
            client_id: arg,
            webhook_url: result.service.webhook_url,
            ...(result.format ? { format: result.format } : {}),
            ...(result.secret ? { webhook_secret: result.secret } : {}),
            ...(ssf ? { ssf_configuration: ssf } : {}),
          },
          result.secret
            ? `webhook_url:    ${result.service.webhook_url}\nwebhook_secret: ${result.secret}\n\nThe signing secret is shown once: keep it now.`
            : ssf
              ? `webhook_url:    ${result.service.webhook_url}\nformat:         ssf (CAEP events as SETs, RFC 8935 push)\n\nThe receiver verifies them with the keys named at ${ssf}`
              : `${arg} has no webhook URL now`,
        );
        return 0;
      }
      case 'deliveries': {
        if (arg === 'list') {
          const rows = await listDeliveries(db, { state: values.state, clientId: values.service, limit: 100 });
          out(rows, rows.length ? rows.map(describeDelivery).join('\n') : 'no deliveries');
          return 0;
        }
        if (arg === 'replay') {
          const outbox = new Outbox(serverKeyring(config));
          const ids = values['all-failed']
            ? ((await db('webhook_deliveries').whereIn('state', ['failed', 'dropped']).orderBy('created_at').limit(10_000).pluck('id')) as string[])
            : arg2
              ? [arg2]
              : [];
          if (ids.length === 0 && !values['all-failed']) throw new Error('deliveries replay needs a delivery_id, or --all-failed');
          const replayed: string[] = [];
          for (const id of ids) if (await withTransaction(db, (trx) => replayDelivery(trx, outbox, id))) replayed.push(id);
          if (!values['all-failed'] && replayed.length === 0) throw new Error(`no undelivered delivery ${arg2}`);
          // A change given up on before its deliveries were written has none to replay: its fan-out is queued again.
          const fanouts = values['all-failed'] ? await requeueFailedFanOuts(db) : [];
          out(
            { replayed, fanouts_requeued: fanouts },
            `${replayed.length} deliveries queued again (same webhook-id)${fanouts.length ? `, and ${fanouts.length} fan-outs given up on` : ''}; the server delivers them`,
          );
          return 0;
        }
        if (arg === 'fanouts') {
          const rows = await listFailedFanOuts(db);
          out(
            rows,
            rows.length
              ? rows
                  .map((r) => `${r.fanout_id}  given up  attempts ${r.attempts}  ${r.created_at}${r.last_error ? `  (${r.last_error})` : ''}`)
                  .join('\n')
              : 'no fan-out given up on',
          );
          return 0;
        }
        throw new Error('deliveries needs list, replay or fanouts');
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
          // The master key only when there is someone to tell: a service without a webhook endpoint needs none.
          const wasEnabled = !(await getService(db, arg)).disabled_at;
          const keyring = wasEnabled && (await reachableEndpoints(db, [arg])).size > 0 ? serverKeyring(config) : undefined;
          const { s, told } = await withTransaction(db, async (trx) => {
            const disabled = await disableService(trx, arg);
            return { s: disabled, told: keyring ? await enqueueServiceDisabled(trx, { keyring, outbox: new Outbox(keyring) }, arg) : 0 };
          });
          out(s, `${describe(s)}\n\nIts tokens and grants stop working now.${told ? ` ${told} grant.revoked events are queued for it.` : ''}`);
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
