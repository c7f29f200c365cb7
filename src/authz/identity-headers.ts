// What forward auth tells a protected application about the person, in the header names Authelia
// made common (Remote-User, Remote-Name, Remote-Groups), so that apps configured for it work as they are.
import type { Role } from '../db/schema.js';

// A type, not an interface: Fastify's reply.headers() takes it as a record of header names.
export type IdentityHeaders = {
  /** The account's subject: a stable opaque UUID, never the phone number or the internal id. */
  'remote-user': string;
  /** The name, percent-encoded where it is not printable ASCII (encodeHeaderText). */
  'remote-name': string;
  /** `org:<organization id>,role:<role>`. */
  'remote-groups': string;
};

const UTF8 = new TextEncoder();

/**
 * A header value is Latin-1 octets, so a name in Chinese cannot go as it is: Node refuses it, and
 * raw UTF-8 bytes (what several proxies send) arrive as mojibake in apps that read headers as Latin-1.
 * Every character outside printable ASCII, and `%` and `+` themselves, is percent-encoded as UTF-8:
 * an ASCII name stays readable as it is, and any percent-decoder (decodeURIComponent, Python's
 * unquote, PHP's rawurldecode or urldecode, Go's url.QueryUnescape) gives back the exact name.
 */
export function encodeHeaderText(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x2a\x2c-\x7e]/gu, (char) => [...UTF8.encode(char)].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

/** The groups scheme: the organization by its id (the console and `gatehouse org list` show it) and the role. */
export function groupsOf(organizationId: number, role: Role): string {
  return `org:${organizationId},role:${role}`;
}

export function identityHeaders(user: { subject: string; name: string; organizationId: number; role: Role }): IdentityHeaders {
  return { 'remote-user': user.subject, 'remote-name': encodeHeaderText(user.name), 'remote-groups': groupsOf(user.organizationId, user.role) };
}
