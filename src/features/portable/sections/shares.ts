/**
 * A summary of the person's shares (verifiable credentials issued to services): which service was given which
 * fields, and until when. For the person's records only: the credentials (tokens) are never carried, and their status
 * lists are the old instance's; a service asks again here.
 */
import { listSharesOfUser } from '../../shares/shares.repo.ts';
import type { PortableSection } from './section.ts';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export const sharesSection: PortableSection = {
  name: 'shares',
  version: 1,
  async export(trx, { userId }) {
    const now = Date.now();
    return (await listSharesOfUser(trx, userId, 10_000)).map((s) => ({
      service: s.service_name,
      fields: s.fields,
      state: s.revoked_at ? 'revoked' : new Date(s.expires_at).getTime() <= now ? 'expired' : 'active',
      created_at: iso(s.created_at),
      expires_at: iso(s.expires_at),
      revoked_at: iso(s.revoked_at),
    }));
  },
  async import(_trx, _ctx, data) {
    const shares = data as { service: string }[];
    return { imported: 0, skipped: shares.map((s) => `share with ${s.service}: shares are never carried over; the service asks again here`) };
  },
};
