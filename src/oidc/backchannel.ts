/**
 * Back-channel logout (OpenID Connect Back-Channel Logout 1.0) as the outbox delivers it. The provider's Client
 * signs the logout token and POSTs it, as it does for its own logouts: its outgoing requests keep the provider's
 * SSRF guard and timeout (src/oidc/provider.ts, outgoingFetch), and each attempt gets a fresh `iat` and `jti`, so a
 * token sent after retries is no staler than one sent at once.
 */
import type Provider from 'oidc-provider';
import type { BackchannelLogoutSender } from '../notify/outbox.ts';

/** oidc-provider's Client carries these though its type definitions do not list them. */
interface LogoutClient {
  backchannelLogoutUri?: string;
  backchannelLogout(sub: string, sid: string): Promise<void>;
}

/** `oidc.provider` is read at each delivery: the provider in use then signs the logout token (src/oidc/index.ts). */
export function backchannelLogoutSender(oidc: { readonly provider: Provider }): BackchannelLogoutSender {
  return async ({ clientId, sub, sid }) => {
    // A disabled service is unknown to the provider (src/oidc/adapter.ts): there is nobody left to tell.
    const client = (await oidc.provider.Client.find(clientId)) as LogoutClient | undefined;
    if (!client?.backchannelLogoutUri) return 'gone';
    await client.backchannelLogout(sub, sid);
    return 'sent';
  };
}
