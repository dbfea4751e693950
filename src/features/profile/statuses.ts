/**
 * Status posts (seed 002): the owner creates, lists, edits and deletes them; everyone else reads a listed
 * person's posts in the rings the policy engine lets the public read.
 */
import { randomUUID } from 'node:crypto';
import { InvalidRequest, type NotFound, StatusNotFound, UserNotFound, type ErrorDetail } from '../../errors.ts';
import type { AppDeps } from '../../deps.ts';
import { withTransaction } from '../../store/db.ts';
import { fieldCatalogue } from '../../profiles/catalogue.ts';
import { decodeCursor, encodeCursor, isBigintText, type PageRequest } from './pagination.ts';
import { openForProfile, openProfile, sealForProfile, type OpenProfile } from '../../disclosure/container.ts';
import { findProfileByHandle, findProfileByUser, findProfilesByIds, readFieldRings } from '../../profiles/profile.repo.ts';
import { USER_NOT_FOUND } from './profile.ts';
import { deleteStatus, findStatus, insertStatus, listStatuses, updateStatus, type StatusRow } from './statuses.repo.ts';

const MAX_STATUS_LENGTH = 500;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;

export interface StatusInput {
  content?: string;
  ring?: string;
}

const statusAad = (id: string) => `status_posts:${id}`;

function checkStatus(input: StatusInput, requireContent: boolean, rings: readonly string[]): { content?: string; ring?: string } {
  const details: ErrorDetail[] = [];
  const out: { content?: string; ring?: string } = {};
  if (input.content !== undefined) {
    const content = input.content.trim();
    if (content.length === 0) details.push({ path: 'content', message: 'is empty: write something' });
    else if ([...content].length > MAX_STATUS_LENGTH)
      details.push({ path: 'content', message: `is too long: at most ${MAX_STATUS_LENGTH} characters` });
    else if (CONTROL.test(content)) details.push({ path: 'content', message: 'contains control characters: send plain text' });
    else out.content = content;
  } else if (requireContent) {
    details.push({ path: 'content', message: 'is required' });
  }
  if (input.ring !== undefined) {
    if (!rings.includes(input.ring)) details.push({ path: 'ring', message: `must be one of ${rings.join(', ')}` });
    else out.ring = input.ring;
  }
  if (!requireContent && input.content === undefined && input.ring === undefined) {
    details.push({ path: 'body', message: 'changes nothing: send content, ring or both' });
  }
  if (details.length > 0) {
    throw InvalidRequest.validation(details);
  }
  return out;
}

function ownView(profile: OpenProfile, row: StatusRow) {
  return {
    status_id: row.id,
    content: openForProfile(profile, row.content, statusAad(row.id)).toString('utf8'),
    ring: row.ring,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

async function ownProfile(deps: AppDeps, userId: string): Promise<OpenProfile> {
  return openProfile(deps.keyring, (await findProfileByUser(deps.db, userId))!);
}

function beforeSeq(page: PageRequest): string | undefined {
  if (!page.cursor) return undefined;
  return decodeCursor<{ s: string }>(page.cursor, (v): v is Record<string, unknown> & { s: string } => isBigintText(v.s)).s;
}

/** A page of rows fetched one past the limit: the extra row only says there is a next page. */
function pageOf<T>(rows: StatusRow[], limit: number, view: (row: StatusRow) => T): { posts: T[]; next_cursor: string | null } {
  const pageRows = rows.slice(0, limit);
  return {
    posts: pageRows.map(view),
    next_cursor: rows.length > limit ? encodeCursor({ s: String(pageRows[pageRows.length - 1].seq) }) : null,
  };
}

/** Posts a status for the caller. */
export async function createStatus(deps: AppDeps, userId: string, input: StatusInput) {
  const checked = checkStatus(
    input,
    true,
    fieldCatalogue(deps).rings.map((r) => r.name),
  );
  const profile = await ownProfile(deps, userId);
  const id = randomUUID();
  const row = await withTransaction(deps.db, (trx) =>
    insertStatus(trx, {
      id,
      profile_id: profile.id,
      ring: checked.ring ?? 'public',
      content: sealForProfile(profile, checked.content!, statusAad(id)),
    }),
  );
  return { post: ownView(profile, row) };
}

/** A page of the caller's posts, every ring. */
export async function listOwnStatuses(deps: AppDeps, userId: string, page: PageRequest) {
  const before = beforeSeq(page);
  const profile = await ownProfile(deps, userId);
  const rows = await listStatuses(deps.db, profile.id, { beforeSeq: before, limit: page.limit + 1 });
  return pageOf(rows, page.limit, (row) => ownView(profile, row));
}

function notFound(): NotFound {
  return new StatusNotFound('status not found: it does not exist or is not yours');
}

/** Changes the content or ring of one of the caller's posts. */
export async function editStatus(deps: AppDeps, userId: string, statusId: string, input: StatusInput) {
  const checked = checkStatus(
    input,
    false,
    fieldCatalogue(deps).rings.map((r) => r.name),
  );
  const profile = await ownProfile(deps, userId);
  return withTransaction(deps.db, async (trx) => {
    if (!(await findStatus(trx, profile.id, statusId))) throw notFound();
    const row = await updateStatus(trx, statusId, {
      ...(checked.content !== undefined ? { content: sealForProfile(profile, checked.content, statusAad(statusId)) } : {}),
      ...(checked.ring !== undefined ? { ring: checked.ring } : {}),
    });
    return { post: ownView(profile, row) };
  });
}

/** Deletes one of the caller's posts. */
export async function removeStatus(deps: AppDeps, userId: string, statusId: string): Promise<void> {
  const profile = await ownProfile(deps, userId);
  await withTransaction(deps.db, async (trx) => {
    if (!(await deleteStatus(trx, profile.id, statusId))) throw notFound();
  });
}

/** `GET /profiles/{handle}/statuses`: the public posts of a listed person. */
export async function listPublicStatuses(deps: AppDeps, handle: string, page: PageRequest) {
  const before = beforeSeq(page);
  const found = await findProfileByHandle(deps.db, handle);
  if (!found) throw new UserNotFound(USER_NOT_FOUND);
  const view = deps.policy.engine.publicView((await readFieldRings(deps.db, [found.profile_id])).get(found.profile_id) ?? []);
  if (!view.listed) throw new UserNotFound(USER_NOT_FOUND);
  const profile = openProfile(deps.keyring, (await findProfilesByIds(deps.db, [found.profile_id]))[0]);
  const rows = await listStatuses(deps.db, profile.id, { beforeSeq: before, rings: view.statusRings, limit: page.limit + 1 });
  const publicPage = pageOf(rows, page.limit, (row) => {
    const { ring: _ring, ...post } = ownView(profile, row);
    return post;
  });
  return { handle: found.handle, ...publicPage };
}
