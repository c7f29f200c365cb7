// Known devices: a browser in which an account has signed in keeps a long-lived cookie that says so,
// signed with the secret key, so that the lockout can count that browser's wrong passwords apart from
// everyone else's (OWASP's "device cookies"). A stranger guessing at an account from anywhere else
// then locks out strangers only, never the owner's own phone or laptop.
//
// The cookie holds one entry per account signed in from the browser (a school's shared computer
// serves several), newest first: a random device id, when it was issued, and an HMAC over the
// account, the id and that time. The account is not in the cookie: an entry is recognized by
// recomputing its HMAC for the account being signed in to, so nothing is stored on the server and
// the cookie does not tell whose accounts the browser knows.
import { hmacHex, randomToken, secretsEqual } from './tokens.js';

export const KNOWN_DEVICE_COOKIE = 'gatehouse_device';
/** Its name when it is Secure (an https PUBLIC_URL): the browser then takes it only from this host, over https. */
export const SECURE_KNOWN_DEVICE_COOKIE = `__Host-${KNOWN_DEVICE_COOKIE}`;

/** The name the cookie is set under, as the session cookie's (config.ts): prefixed when Secure. */
export function knownDeviceCookieName(secure: boolean): string {
  return secure ? SECURE_KNOWN_DEVICE_COOKIE : KNOWN_DEVICE_COOKIE;
}
/** How long a device stays known after its last sign-in to an account. */
export const KNOWN_DEVICE_MAX_AGE_SECONDS = 180 * 86_400;
/** Accounts one browser is remembered for; the oldest is forgotten first. */
const MAX_ENTRIES = 5;
/** A cookie longer than five entries can be is not ours: it is ignored, not parsed. */
const MAX_COOKIE_LENGTH = 1024;
const MAC_HEX = 32; // 128 bits: forging one is guessing it.
const ENTRY = /^([A-Za-z0-9_-]{22})\.([0-9a-z]{1,10})\.([0-9a-f]{32})$/;

interface Entry {
  device: string;
  issuedSeconds: number;
  mac: string;
}

function parse(cookie: string | undefined): Entry[] {
  if (!cookie || cookie.length > MAX_COOKIE_LENGTH) return [];
  return cookie.split('~').flatMap((raw) => {
    const match = ENTRY.exec(raw);
    return match ? [{ device: match[1]!, issuedSeconds: parseInt(match[2]!, 36), mac: match[3]! }] : [];
  });
}

function format(entries: Entry[]): string {
  return entries.map((e) => `${e.device}.${e.issuedSeconds.toString(36)}.${e.mac}`).join('~');
}

export class KnownDevices {
  constructor(
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The device's id when `cookie` holds an unexpired entry this service signed for `account`; null for any other client. */
  deviceFor(account: string, cookie: string | undefined): string | null {
    return this.entryFor(account, parse(cookie))?.device ?? null;
  }

  /**
   * The cookie's value after a sign-in to `account`: the account's entry renewed (the same device id,
   * so that its failure count stays its own) or a new one, first; other accounts' unexpired entries after.
   */
  remember(account: string, cookie: string | undefined): string {
    const entries = parse(cookie).filter((e) => !this.expired(e));
    const own = this.entryFor(account, entries);
    const device = own?.device ?? randomToken(16);
    const issuedSeconds = Math.floor(this.now() / 1000);
    const renewed = { device, issuedSeconds, mac: this.mac(account, device, issuedSeconds) };
    return format([renewed, ...entries.filter((e) => e !== own)].slice(0, MAX_ENTRIES));
  }

  private entryFor(account: string, entries: Entry[]): Entry | undefined {
    return entries.find((e) => !this.expired(e) && secretsEqual(e.mac, this.mac(account, e.device, e.issuedSeconds)));
  }

  private expired(entry: Entry): boolean {
    const age = this.now() / 1000 - entry.issuedSeconds;
    return age > KNOWN_DEVICE_MAX_AGE_SECONDS || age < -60;
  }

  private mac(account: string, device: string, issuedSeconds: number): string {
    return hmacHex(this.secret, 'gatehouse known device v1', account, device, String(issuedSeconds)).slice(0, MAC_HEX);
  }
}
