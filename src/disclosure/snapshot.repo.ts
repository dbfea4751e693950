/**
 * The snapshot a release is decided on: one person's profile container, every field's ring and sealed value, and
 * the person's ring settings, read in one statement (alone, or as columns of a statement that reads more, like the
 * data API's token check in src/oidc/grants.repo.ts).
 */
import type { Queryable } from '../store/db.ts';
import { CUSTOM_PREFIX, type UserRings } from '../policy/engine.ts';
import type { ProfileKeyRow } from './container.ts';

/** A custom ring as the snapshot reads it (the columns readUserRings uses). */
interface SnapshotRing {
  id: string;
  name: string;
  description: string | null;
  roles: unknown;
  services: unknown;
}

/**
 * Everything a decision about one person's profile needs: the container's key, every field's ring and sealed
 * value (only the released ones are ever opened), and the person's ring settings — the custom rings in the order
 * listCustomRings gives them, and the settings version that names them in the ability cache.
 */
export interface ProfileSnapshot {
  profile: ProfileKeyRow;
  /** Each field row: its ring and its value still sealed, in base64 (decoded only for the fields opened). */
  fields: { field: string; ring: string; sealed: string | null }[];
  customRings: SnapshotRing[];
  ringsVersion: number;
}

/** The columns profileSnapshotSql adds to a row. */
export interface SnapshotColumns {
  snap_profile_id: string | null;
  snap_user_id: string;
  snap_wrapped_dek: Uint8Array;
  snap_kek_id: string;
  snap_version: number;
  snap_rings_version: string | number;
  snap_custom_rings: SnapshotRing[] | string | null;
  /** [field, ring, sealed value in base64 or null] per field row. */
  snap_fields: [string, string, string | null][] | string | null;
}

/**
 * The columns and joins that read one person's ProfileSnapshot into a single row, for a statement that names the
 * person by the SQL expression `userId` (a parameter, or a column of a table the statement already reads): the
 * container row, the field rows and the custom rings each aggregated as JSON (parsed natively, where a bytea[]
 * would be parsed character by character), and the rings version.
 */
export function profileSnapshotSql(userId: string): { columns: string; joins: string } {
  return {
    columns: `p.id as snap_profile_id, p.user_id as snap_user_id, p.wrapped_dek as snap_wrapped_dek, p.kek_id as snap_kek_id,
              p.version as snap_version, coalesce(rs.version, 0) as snap_rings_version, cr.rings as snap_custom_rings,
              fa.fields as snap_fields`,
    joins: `left join profiles p on p.user_id = ${userId}
            left join ring_settings rs on rs.user_id = p.user_id
            left join lateral (
              select json_agg(json_build_object('id', r.id, 'name', r.name, 'description', r.description,
                                                'roles', r.roles, 'services', r.services)
                              order by r.created_at, r.name_lower) as rings
                from rings r where r.user_id = p.user_id
            ) cr on true
            left join lateral (
              select json_agg(json_build_array(f.field, f.ring, encode(f.value, 'base64'))) as fields
                from profile_fields f where f.profile_id = p.id
            ) fa on true`,
  };
}

/** The snapshot in a row read with profileSnapshotSql; undefined when the person has no profile. */
export function profileSnapshotFrom(row: SnapshotColumns): ProfileSnapshot | undefined {
  if (row.snap_profile_id === null) return undefined;
  const json = <T>(v: T | string | null): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
  const rings = json(row.snap_custom_rings);
  const fields = json(row.snap_fields) ?? [];
  return {
    profile: {
      id: row.snap_profile_id,
      user_id: row.snap_user_id,
      wrapped_dek: row.snap_wrapped_dek,
      kek_id: row.snap_kek_id,
      version: row.snap_version,
    },
    fields: fields.map(([field, ring, sealed]) => ({ field, ring, sealed })),
    customRings: rings ?? [],
    ringsVersion: Number(row.snap_rings_version),
  };
}

const SNAPSHOT = profileSnapshotSql('person.id');

/** One person's ProfileSnapshot, in one statement (named: planned once per connection, not on every read). */
export async function readProfileSnapshot(q: Queryable, userId: string): Promise<ProfileSnapshot | undefined> {
  const { rows } = (await q
    .raw(`select ${SNAPSHOT.columns} from (select ?::uuid as id) person ${SNAPSHOT.joins}`, [userId])
    .options({ name: 'rf_profile_snapshot' })) as { rows: SnapshotColumns[] };
  return profileSnapshotFrom(rows[0]);
}

function jsonList(value: unknown): string[] {
  return typeof value === 'string' ? (JSON.parse(value) as string[]) : ((value as string[] | null) ?? []);
}

/**
 * The person's ring settings from a snapshot: what readUserRings builds from the same rows. Built only when the
 * policy engine compiles an ability (a cache miss): a cached one is found by the person and the rings' version.
 */
export function ringsOf(snapshot: ProfileSnapshot): UserRings {
  let built: Pick<UserRings, 'placements' | 'custom'> | undefined;
  const build = () => {
    const placements = new Map(snapshot.fields.map((f) => [f.field, f.ring]));
    return {
      placements: Object.fromEntries(placements),
      custom: snapshot.customRings.map((r) => ({
        id: r.id,
        name: r.name,
        ...(r.description ? { description: r.description } : {}),
        fields: [...placements].filter(([, ring]) => ring === `${CUSTOM_PREFIX}${r.id}`).map(([field]) => field),
        roles: jsonList(r.roles),
        services: jsonList(r.services),
      })),
    };
  };
  return {
    userId: snapshot.profile.user_id,
    version: snapshot.ringsVersion,
    get placements() {
      built ??= build();
      return built.placements;
    },
    get custom() {
      built ??= build();
      return built.custom;
    },
  };
}
