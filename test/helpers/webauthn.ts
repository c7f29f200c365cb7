// A software authenticator for tests: an ES256 key per credential, 'none' attestation, and WebAuthn's
// JSON forms (what credential.toJSON() gives a page), so that tests drive the passkey API as a
// browser with a platform authenticator would — including what a browser would never send (another
// origin, a replayed assertion).
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

export interface SoftCredential {
  id: string;
  privateKey: KeyObject;
  /** The user handle the relying party gave (base64url); a discoverable credential hands it back. */
  userHandle: string;
  rpId: string;
  counter: number;
}

const b64 = (bytes: Uint8Array) => isoBase64URL.fromBuffer(new Uint8Array(bytes));
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

function flags(options: { userVerified: boolean; attested?: boolean; backedUp?: boolean }): number {
  // UP, UV, BE+BS (a synced passkey), AT.
  return 0x01 | (options.userVerified ? 0x04 : 0) | (options.backedUp ? 0x18 : 0) | (options.attested ? 0x40 : 0);
}

function counterBytes(counter: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(counter);
  return out;
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];

  constructor(private readonly options: { origin: string; userVerified?: boolean; backedUp?: boolean } ) {}

  /** navigator.credentials.create(options) followed by toJSON(). */
  create(creationOptions: { challenge: string; rp: { id?: string }; user: { id: string } }, overrides: { origin?: string; rpId?: string } = {}) {
    const rpId = overrides.rpId ?? creationOptions.rp.id ?? new URL(this.options.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, isoBase64URL.toBuffer(jwk.x!)],
      [-3, isoBase64URL.toBuffer(jwk.y!)],
    ]);
    const credentialId = randomBytes(16);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credentialId.length);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.of(flags({ userVerified: this.options.userVerified ?? true, attested: true, backedUp: this.options.backedUp })),
      counterBytes(0),
      Buffer.alloc(16),
      idLength,
      credentialId,
      Buffer.from(isoCBOR.encode(cose)),
    ]);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', new Uint8Array(authData)]]) as never);
    const clientDataJSON = JSON.stringify({ type: 'webauthn.create', challenge: creationOptions.challenge, origin: overrides.origin ?? this.options.origin, crossOrigin: false });
    const credential: SoftCredential = { id: b64(credentialId), privateKey, userHandle: creationOptions.user.id, rpId, counter: 0 };
    this.credentials.push(credential);
    return credentialJSON(credential.id, { clientDataJSON: b64(Buffer.from(clientDataJSON)), attestationObject: b64(attestationObject), transports: ['internal'] });
  }

  /** navigator.credentials.get(options) followed by toJSON(): the credential named in allowCredentials, or the newest (discoverable). */
  get(requestOptions: { challenge: string; rpId?: string; allowCredentials?: { id: string }[] }, overrides: { origin?: string; credential?: SoftCredential; userVerified?: boolean } = {}) {
    const allowed = requestOptions.allowCredentials?.map((c) => c.id);
    const credential = overrides.credential ?? [...this.credentials].reverse().find((c) => !allowed || allowed.includes(c.id));
    if (!credential) throw new Error('no credential for these options');
    credential.counter++;
    const authData = Buffer.concat([sha256(credential.rpId), Buffer.of(flags({ userVerified: overrides.userVerified ?? this.options.userVerified ?? true, backedUp: this.options.backedUp })), counterBytes(credential.counter)]);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: requestOptions.challenge, origin: overrides.origin ?? this.options.origin, crossOrigin: false }));
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey);
    return credentialJSON(credential.id, { clientDataJSON: b64(clientDataJSON), authenticatorData: b64(authData), signature: b64(signature), userHandle: allowed ? undefined : credential.userHandle });
  }
}

/** A platform authenticator's credential as PublicKeyCredential.toJSON() gives it, around its response. */
function credentialJSON<R extends object>(id: string, response: R) {
  return { id, rawId: id, type: 'public-key' as const, authenticatorAttachment: 'platform' as const, clientExtensionResults: {}, response };
}
