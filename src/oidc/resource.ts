/**
 * The data API as an OAuth resource server: resolves a service's access token to the grant it was issued under.
 * The token must be live, issued for this resource, under a grant that still exists, by a service still enabled:
 * revoking the grant (or disabling the service) refuses the very next request, whatever the token's expiry.
 */
import type { Context } from 'koa';
import { Forbidden, Unauthenticated } from '../errors.ts';
import type { AppDeps, SecurityResolver } from '../http/types.ts';
import { dataResource } from './provider.ts';
import { findService } from './services.ts';

function bearer(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
  if (!match) throw new Unauthenticated('send the access token as "Authorization: Bearer <token>"', { code: 'invalid_token' });
  return match[1];
}

export const resolveServiceToken: SecurityResolver = async (ctx: Context, deps: AppDeps) => {
  const value = bearer(ctx);
  if (!value) return undefined;
  const { provider } = deps.oidc;
  const refused = (why: string) => new Unauthenticated(why, { code: 'invalid_token' });

  const token = await provider.AccessToken.find(value);
  if (!token) throw refused('the access token is unknown or has been revoked');
  if (token.isExpired) throw new Unauthenticated('token has expired!', { code: 'token_expired' });
  const audience = Array.isArray(token.aud) ? token.aud : [token.aud];
  if (!audience.includes(dataResource(deps.config))) {
    throw refused(`the access token is not for this API: request it with resource=${dataResource(deps.config)}`);
  }
  if (!token.accountId) {
    throw new Forbidden('this token carries no person (client credentials): use the authorization code flow', {
      code: 'insufficient_scope',
    });
  }
  const [grant, service] = await Promise.all([token.grantId ? provider.Grant.find(token.grantId) : undefined, findService(deps.db, token.clientId!)]);
  if (!grant || grant.accountId !== token.accountId || grant.clientId !== token.clientId) {
    throw refused('the grant behind this token has been revoked');
  }
  if (!service || service.disabled_at) throw refused('this service has been disabled');

  // What the token says, and no more than the grant still allows (a narrowed consent removes scopes at once).
  const granted = new Set((grant.getResourceScope(dataResource(deps.config)) ?? '').split(' ').filter(Boolean));
  const scopes = [...token.scopes].filter((s) => granted.has(s));
  return {
    caller: { kind: 'service', clientId: service.client_id, role: service.role, grantId: grant.jti, accountId: token.accountId, scopes },
    credential: value,
  };
};
