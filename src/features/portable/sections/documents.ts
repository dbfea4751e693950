/**
 * Documents: each document's kind, title, own fields (opened here, sealed anew on import under this profile's key,
 * bound to its new id), the profile fields it references and the roles it is intended for. Its links to services
 * are not carried: the services are the old instance's clients (the person links this instance's services again).
 */
import { randomUUID } from 'node:crypto';
import { openForProfile, sealForProfile } from '../../../disclosure/container.ts';
import { insertDocument, linksOf, listOwnDocuments } from '../../documents/documents.repo.ts';
import { MAX_DOCUMENTS, ownAad } from '../../documents/documents.ts';
import { dateOf, type PortableSection } from './section.ts';

interface ExportedDocument {
  kind: string;
  title: string;
  fields: Record<string, unknown>;
  references: string[];
  roles: string[];
  services: string[];
  created_at: string;
  updated_at: string;
}

const KINDS = new Set(['lease', 'insurance_policy', 'registration', 'other']);

export const documentsSection: PortableSection = {
  name: 'documents',
  version: 1,
  async export(trx, { userId, profile }) {
    const rows = await listOwnDocuments(trx, userId, undefined, MAX_DOCUMENTS);
    const links = await linksOf(
      trx,
      rows.map((r) => r.id),
    );
    return rows
      .map((r) => ({
        kind: r.kind,
        title: r.title,
        fields: JSON.parse(openForProfile(profile, r.own_fields, ownAad(r.id)).toString('utf8')) as Record<string, unknown>,
        references: r.references,
        roles: r.roles,
        services: links.get(r.id) ?? [],
        created_at: new Date(r.created_at).toISOString(),
        updated_at: new Date(r.updated_at).toISOString(),
      }))
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.title.localeCompare(b.title));
  },
  async import(trx, ctx, data) {
    const { catalogue, roles } = ctx.deps.policy.policies;
    const skipped: string[] = [];
    let imported = 0;
    for (const [i, d] of (data as ExportedDocument[]).entries()) {
      if (i >= MAX_DOCUMENTS) {
        skipped.push(`documents after the first ${MAX_DOCUMENTS}: not restored (the most one person may keep)`);
        break;
      }
      const title = typeof d.title === 'string' ? d.title.trim().slice(0, 200) : '';
      const label = `document ${i}${title ? ` (${title.slice(0, 60)})` : ''}`;
      if (!KINDS.has(d.kind) || title === '' || typeof d.fields !== 'object' || d.fields === null || Array.isArray(d.fields)) {
        skipped.push(`${label}: not a document this instance keeps`);
        continue;
      }
      const references = (d.references ?? []).filter((f) => {
        const known = catalogue.fields.has(f);
        if (!known) skipped.push(`${label}: reference ${f} is not a profile field here`);
        return known;
      });
      const kept = (d.roles ?? []).filter((r) => {
        const known = roles.has(r);
        if (!known) skipped.push(`${label}: role ${r} does not exist here`);
        return known;
      });
      for (const s of d.services ?? []) {
        skipped.push(`${label}: its link to service ${s} belongs to the other instance; link this instance's services again`);
      }
      const id = randomUUID();
      await insertDocument(trx, {
        id,
        user_id: ctx.userId,
        kind: d.kind,
        title,
        own_fields: sealForProfile(ctx.profile, JSON.stringify(d.fields), ownAad(id)),
        references,
        roles: kept,
        created_at: dateOf(d.created_at),
        updated_at: dateOf(d.updated_at),
      });
      imported++;
    }
    return { imported, ...(skipped.length ? { skipped } : {}) };
  },
};
