/**
 * The login and consent steps of the authorization flow, as use cases the page handlers call. The consent page
 * lists exactly the fields the policy engine would release for the requested scopes; the person may decline any
 * optional scope; the grant saved is exactly what they approved and replaces any earlier grant of that service.
 */
import { createHmac } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Context } from 'koa';
import type { Config } from '../config.ts';
import type { Keyring } from '../crypto/envelope.ts';
import { safeEqual } from '../crypto/tokens.ts';
import { CsrfFailed, InteractionNotFound, InvalidCredentials, InvalidRequest } from '../errors.ts';
import { recordAudit } from '../audit/audit.ts';
import { withTransaction, type Db } from '../store/db.ts';
import type { ScopePreview } from './claims.ts';
import { replaceGrants } from './grants.repo.ts';
import type { OidcDeps } from './index.ts';
import { dataResource } from './provider.ts';
import { escapeHtml, inForm, PASSKEY_SCRIPTS, renderPage } from './pages.ts';
import { findService } from './services.ts';
import { enqueueGrantRevoked } from './grant-events.ts';
import type { Outbox } from '../notify/outbox.ts';

/** What the interaction steps need. */
interface InteractionDeps {
  config: Config;
  db: Db;
  keyring: Keyring;
  outbox: Outbox;
  oidc: OidcDeps;
}

/** Scopes about the sign-in itself, which release no profile field. */
const PROTOCOL_SCOPES = new Set(['openid', 'offline_access']);

function csrfToken(deps: InteractionDeps, uid: string): string {
  return createHmac('sha256', deps.keyring.derive('csrf')).update(`interaction:${uid}`).digest('base64url');
}

export function assertCsrf(deps: InteractionDeps, uid: string, given: unknown): void {
  if (typeof given !== 'string' || !safeEqual(given, csrfToken(deps, uid))) {
    throw new CsrfFailed('this form has expired or did not come from Ringfence: go back to the service and start again');
  }
}

function provider(deps: InteractionDeps): Provider {
  return deps.oidc.provider;
}

/**
 * The interaction in progress, which must be the one the URL names: the CSRF token is bound to the URL's uid, so a
 * form of one interaction can never act on another.
 */
async function interactionDetails(deps: InteractionDeps, ctx: Context) {
  const details = await provider(deps).interactionDetails(ctx.req, ctx.res);
  if (details.uid !== (ctx.params as Record<string, string | undefined>).uid) {
    throw new InteractionNotFound('this sign-in request is unknown or has ended: go back to the service and start again');
  }
  return details;
}

function loginPage(ctx: Context, deps: InteractionDeps, uid: string, serviceName: string, error?: string, login = ''): string {
  return renderPage(ctx, {
    title: 'Sign in',
    scripts: PASSKEY_SCRIPTS,
    body: `<h1>Sign in to continue to ${escapeHtml(serviceName)}</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<p id="status" role="status"></p>
<button type="button" id="interaction-passkey" class="secondary" data-uid="${escapeHtml(uid)}" data-csrf="${csrfToken(deps, uid)}">Use a passkey</button>
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="on">
<input type="hidden" name="csrf" value="${csrfToken(deps, uid)}">
<label for="login">E-mail or handle</label>
<input id="login" name="login" type="text" autocomplete="username webauthn" required value="${escapeHtml(login)}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
<a href="/interaction/${escapeHtml(uid)}/abort">Cancel</a>
</form>`,
  });
}

function consentPage(
  ctx: Context,
  deps: InteractionDeps,
  uid: string,
  service: { name: string; role: string; redirectOrigin: string },
  previews: ScopePreview[],
): string {
  const scopes = previews
    .map((p) => {
      const id = `scope-${p.scope.replace(/[^a-z0-9]/gi, '-')}`;
      const fields = PROTOCOL_SCOPES.has(p.scope)
        ? ''
        : p.fields.length
          ? `<ul class="fields">${p.fields.map((f) => `<li>${escapeHtml(f.field)} <span class="muted">— ${escapeHtml(f.description)}</span></li>`).join('')}</ul>`
          : '<p class="muted">No profile fields: your policies release nothing under this scope to this service.</p>';
      return `<div class="scope">
<input type="checkbox" id="${id}" name="scope" value="${escapeHtml(p.scope)}" checked${p.required ? ' disabled' : ''}>
<label for="${id}"><strong>${escapeHtml(p.scope)}</strong>: ${escapeHtml(p.description)}${p.required ? ' (required)' : ''}</label>
${p.required ? `<input type="hidden" name="scope" value="${escapeHtml(p.scope)}">` : ''}
${fields}
</div>`;
    })
    .join('\n');
  return renderPage(ctx, {
    title: 'Share your profile',
    formAction: [service.redirectOrigin],
    body: `<h1>${escapeHtml(service.name)} asks to see parts of your profile</h1>
<p>Role: <span class="role">${escapeHtml(service.role)}</span>. It will be able to see exactly the fields listed under the
scopes you leave ticked, and only while you allow it: you can revoke access at any time.</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/consent">
<input type="hidden" name="csrf" value="${csrfToken(deps, uid)}">
${scopes}
<button type="submit" id="allow">Allow</button>
<a href="/interaction/${escapeHtml(uid)}/abort" id="deny">Deny</a>
</form>`,
  });
}

function redirectOrigin(redirectUri: unknown): string {
  try {
    return new URL(String(redirectUri)).origin;
  } catch {
    return '';
  }
}

/** The page for the current step: login, or consent with the engine's field preview. */
export async function showInteraction(deps: InteractionDeps, ctx: Context): Promise<string> {
  const details = await interactionDetails(deps, ctx);
  const clientId = String(details.params.client_id);
  const service = await findService(deps.db, clientId);
  const name = service?.name ?? clientId;
  if (details.prompt.name === 'login') return loginPage(ctx, deps, details.uid, name);
  const accountId = details.session?.accountId;
  if (!accountId || !service) {
    throw new InvalidRequest('this sign-in request can no longer be completed: go back to the service and start again');
  }
  const requested = String(details.params.scope ?? 'openid')
    .split(' ')
    .filter(Boolean);
  const previews = await deps.oidc.previewConsent(accountId, clientId, requested);
  return consentPage(ctx, deps, details.uid, { name, role: service.role, redirectOrigin: redirectOrigin(details.params.redirect_uri) }, previews);
}

/** Signs the person in and answers where the provider goes next; a refusal of what they typed shows the form again. */
export async function submitLogin(deps: InteractionDeps, ctx: Context, form: { login: string; password: string }, clientIp: string): Promise<string> {
  const details = await interactionDetails(deps, ctx);
  if (details.prompt.name !== 'login') {
    throw new InvalidRequest('this sign-in step is already complete: go back to the service and start again');
  }
  const service = await findService(deps.db, String(details.params.client_id));
  const again = (message: string) => loginPage(ctx, deps, details.uid, service?.name ?? 'the service', message, form.login);
  const missing = (['login', 'password'] as const).filter((name) => !form[name]);
  if (missing.length > 0) {
    const problems = missing.map((path) => ({ path, message: 'is required' }));
    throw inForm(ctx, again, InvalidRequest.validation(problems, 'Enter your e-mail or handle and your password.'));
  }
  const userId = await deps.oidc.authenticate(form.login, form.password, clientIp);
  if (!userId) throw inForm(ctx, again, new InvalidCredentials('The e-mail, handle or password is not right.'));
  return provider(deps).interactionResult(ctx.req, ctx.res, { login: { accountId: userId, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
}

/**
 * Completes the login step for a person who proved who they are another way than a password (a passkey, verified by
 * the caller): where the provider goes next.
 */
export async function completeLogin(deps: InteractionDeps, ctx: Context, accountId: string, amr: string[]): Promise<string> {
  const details = await interactionDetails(deps, ctx);
  if (details.prompt.name !== 'login') {
    throw new InvalidRequest('this sign-in step is already complete: go back to the service and start again');
  }
  return provider(deps).interactionResult(ctx.req, ctx.res, { login: { accountId, amr } }, { mergeWithLastSubmission: false });
}

/**
 * Saves exactly the approved scopes as a new grant (OIDC scopes and the data API's resource scopes alike) and
 * removes every earlier grant of this service for this person, with all tokens issued under them: consent
 * replaces, so a narrowed consent takes the dropped fields away at once.
 */
export async function submitConsent(deps: InteractionDeps, ctx: Context, approved: readonly string[], clientIp: string): Promise<string> {
  const details = await interactionDetails(deps, ctx);
  if (details.prompt.name !== 'consent') {
    throw new InvalidRequest(
      details.prompt.name === 'login'
        ? 'sign in before you answer the consent: go back to the service and start again'
        : 'this consent step is already complete: go back to the service and start again',
    );
  }
  const accountId = details.session?.accountId;
  if (!accountId) throw new InvalidRequest('sign in first: go back to the service and start again');
  const clientId = String(details.params.client_id);
  const requested = new Set(
    String(details.params.scope ?? '')
      .split(' ')
      .filter(Boolean),
  );
  const unknown = approved.filter((s) => !requested.has(s));
  if (unknown.length > 0) {
    throw new InvalidRequest(`these scopes were not requested by the service: ${unknown.join(', ')}`);
  }
  // openid is what makes this a sign-in; it cannot be declined without declining the whole request.
  const scopes = [...new Set(requested.has('openid') ? ['openid', ...approved] : approved)];
  const p = provider(deps);
  const grant = new p.Grant({ accountId, clientId });
  grant.addOIDCScope(scopes.join(' '));
  const resourceScopes = scopes.filter((s) => s !== 'openid' && s !== 'offline_access');
  grant.addResourceScope(dataResource(deps.config), resourceScopes.join(' '));
  // Declined scopes are recorded as rejected, so the provider takes the consent as answered, not as missing.
  const declined = [...requested].filter((s) => !scopes.includes(s));
  if (declined.length > 0) {
    grant.rejectOIDCScope(declined.join(' '));
    grant.rejectResourceScope(dataResource(deps.config), declined.filter((s) => s !== 'offline_access').join(' '));
  }
  const grantId = await grant.save();

  await withTransaction(deps.db, async (trx) => {
    const { replaced, scopesBefore: before } = await replaceGrants(trx, accountId, clientId, grantId);
    const dropped = [...before].filter((s) => !scopes.includes(s));
    const action = replaced === 0 ? 'grant.created' : dropped.length > 0 ? 'grant.narrowed' : 'grant.replaced';
    await recordAudit(trx, {
      action,
      actor: `user:${accountId}`,
      subject: `user:${accountId}`,
      clientIp,
      data: { client_id: clientId, grant_id: grantId, scopes, ...(dropped.length ? { dropped } : {}) },
    });
    // A narrowed consent takes fields away: the service is told, as a revocation is.
    if (dropped.length > 0) await enqueueGrantRevoked(trx, deps, [{ userId: accountId, clientId, reason: 'narrowed', scopes: dropped }]);
  });

  return p.interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

export async function abortInteraction(deps: InteractionDeps, ctx: Context): Promise<string> {
  return provider(deps).interactionResult(
    ctx.req,
    ctx.res,
    { error: 'access_denied', error_description: 'the person declined the request' },
    { mergeWithLastSubmission: false },
  );
}
