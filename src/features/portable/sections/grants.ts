/**
 * A summary of the person's grants: which services could see what. For the person's records only: grants (and the
 * tokens under them) are never carried over; each service asks again on the new instance.
 */
import { listAccess } from '../../access/access.ts';
import type { PortableSection } from './section.ts';

export const grantsSection: PortableSection = {
  name: 'grants',
  version: 1,
  async export(_trx, { deps, userId }) {
    return (await listAccess(deps, userId)).map((g) => ({
      service: g.name,
      role: g.role,
      scopes: g.scopes,
      fields: g.fields,
      granted_at: g.granted_at,
    }));
  },
  async import(_trx, _ctx, data) {
    const grants = data as { service: string }[];
    return { imported: 0, skipped: grants.map((g) => `grant to ${g.service}: grants are never carried over; the service asks again here`) };
  },
};
