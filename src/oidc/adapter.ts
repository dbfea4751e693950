/**
 * oidc-provider's storage adapter over one knex table. It implements exactly the interface of the provider's
 * example adapter (upsert, find, findByUserCode, findByUid, consume, destroy, revokeByGrantId); `find` never returns
 * an expired payload. The `Client` model is served from the services registry instead, so a disabled service is
 * unknown to the provider at once.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Queryable } from '../store/db.ts';
import { findServiceClientMetadata } from './services.ts';

interface Row {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

function toPayload(row: Row | undefined): AdapterPayload | undefined {
  if (!row) return undefined;
  const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
  return row.consumed_at ? { ...payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) } : payload;
}

/** Builds the adapter class oidc-provider instantiates once per model name. */
export function createAdapterClass(db: Queryable) {
  return class KnexAdapter implements Adapter {
    readonly name: string;

    constructor(name: string) {
      this.name = name;
    }

    #live() {
      return db('oidc_payloads')
        .where({ kind: this.name })
        .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()));
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.name === 'Client') throw new Error('clients are registered through the services registry');
      const row = {
        kind: this.name,
        id,
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        uid: payload.uid ?? null,
        user_code: payload.userCode ?? null,
        account_id: payload.accountId ?? null,
        client_id: payload.clientId ?? null,
        expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      };
      await db('oidc_payloads').insert(row).onConflict(['kind', 'id']).merge();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.name === 'Client') return findServiceClientMetadata(db, id);
      return toPayload(await this.#live().andWhere({ id }).first('payload', 'consumed_at'));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return toPayload(await this.#live().andWhere({ user_code: userCode }).first('payload', 'consumed_at'));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return toPayload(await this.#live().andWhere({ uid }).first('payload', 'consumed_at'));
    }

    async consume(id: string): Promise<void> {
      await db('oidc_payloads').where({ kind: this.name, id }).update({ consumed_at: db.fn.now() });
    }

    async destroy(id: string): Promise<void> {
      await db('oidc_payloads').where({ kind: this.name, id }).delete();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db('oidc_payloads').where({ kind: this.name, grant_id: grantId }).delete();
    }
  };
}

/** Deletes expired rows; returns how many. Run periodically by the service. */
export async function sweepExpiredPayloads(db: Queryable): Promise<number> {
  return db('oidc_payloads').where('expires_at', '<=', db.fn.now()).delete();
}

/** Removes a grant and everything issued under it (codes, access and refresh tokens) in one statement. */
export async function destroyGrant(db: Queryable, grantId: string): Promise<number> {
  return db('oidc_payloads')
    .where({ grant_id: grantId })
    .orWhere((q) => q.where({ kind: 'Grant', id: grantId }))
    .delete();
}
