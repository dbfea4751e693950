/** Who is reading a profile, and how a reader is named in decisions, explanations and the command line. */

/** Who is reading. A service always reads through a grant; a role alone is "any service of this role". */
export type Reader = { kind: 'owner' } | { kind: 'public' } | { kind: 'role'; role: string } | { kind: 'service'; clientId: string; role: string };

/** The reader's name in decisions and reports: `owner`, `public`, `role:<name>` or `service:<client_id>`. */
export function readerKey(reader: Reader): string {
  switch (reader.kind) {
    case 'owner':
    case 'public':
      return reader.kind;
    case 'role':
      return `role:${reader.role}`;
    case 'service':
      return `service:${reader.clientId}`;
  }
}

/** Parses `owner`, `public`, `role:<name>` or `service:<client_id>@<role>`. */
export function parseReader(text: string): Reader {
  if (text === 'owner' || text === 'public') return { kind: text };
  const role = /^role:([a-z][a-z0-9_]*)$/.exec(text);
  if (role) return { kind: 'role', role: role[1] };
  const service = /^service:([\x21-\x7e]+)@([a-z][a-z0-9_]*)$/.exec(text);
  if (service) return { kind: 'service', clientId: service[1], role: service[2] };
  throw new Error(`reader ${text}: expected owner, public, role:<name> or service:<client_id>@<role>`);
}
