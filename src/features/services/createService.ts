import type { Handler } from '../../deps.ts';
import { recordAudit } from '../../audit/audit.ts';
import { withTransaction } from '../../store/db.ts';
import { registerService } from '../../oidc/services.ts';
import { supportedScopes } from '../../oidc/scopes.ts';
import { issueWebhookSecret } from '../../notify/webhooks.ts';
import { assertOperator } from './operators.ts';

/** Registers a service; the client secret is in this answer only. */
export const createService: Handler = async ({ caller, body, clientIp }, deps) => {
  const operator = await assertOperator(deps, caller);
  const policies = deps.policy.policies;
  return withTransaction(deps.db, async (trx) => {
    const { service, clientSecret } = await registerService(
      trx,
      {
        name: String(body.name),
        role: String(body.role),
        redirectUris: body.redirect_uris as string[],
        postLogoutRedirectUris: body.post_logout_redirect_uris as string[] | undefined,
        scope: body.scope as string | undefined,
        webhookUrl: body.webhook_url as string | undefined,
        backchannelLogoutUri: body.backchannel_logout_uri as string | undefined,
        logoUri: body.logo_uri as string | undefined,
        subjectType: body.subject_type as 'pairwise' | 'public' | undefined,
      },
      new Set(policies.roles.keys()),
      supportedScopes(policies),
    );
    await recordAudit(trx, {
      action: 'service.registered',
      actor: `user:${operator}`,
      clientIp,
      data: { client_id: service.client_id, name: service.name, role: service.role },
    });
    // A webhook URL gets its Standard Webhooks signing secret now, shown in this answer only.
    const webhookSecret = service.webhook_url ? await issueWebhookSecret(trx, deps.keyring, service.client_id) : undefined;
    return { ...serialize(service), client_secret: clientSecret, ...(webhookSecret ? { webhook_secret: webhookSecret } : {}) };
  });
};

export function serialize(service: import('../../oidc/services.ts').Service) {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    ...service,
    created_at: new Date(service.created_at).toISOString(),
    disabled_at: iso(service.disabled_at),
    last_used_at: iso(service.last_used_at),
  };
}
