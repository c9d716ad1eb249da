/**
 * The file key of an age file, wrapped for each recipient in a stanza:
 * X25519 (a public key) or scrypt (a passphrase, which age allows alone only).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scryptSync } from "node:crypto";
import { AgeFormatError, base64Decode, base64Encode, type Stanza } from "./header.ts";
import { publicPointOf, x25519 } from "./keys.ts";

/** Who can read a file: public keys, or (alone) a passphrase. */
export type Recipients =
  | { kind: "x25519"; points: Uint8Array[] }
  | { kind: "passphrase"; passphrase: string };

/** What can open a file: X25519 secrets, or a passphrase. */
export type Identities =
  | { kind: "x25519"; secrets: Uint8Array[] }
  | { kind: "passphrase"; passphrase: string };

const X25519_INFO = "age-encryption.org/v1/X25519";
const SCRYPT_LABEL = "age-encryption.org/v1/scrypt";
const ZERO_NONCE = new Uint8Array(12);
/** What age itself uses when encrypting with a passphrase (about a second here). */
export const SCRYPT_LOG_N = 18;
/** Beyond what age accepts by default when decrypting: a forged header must not cost minutes. */
const MAX_SCRYPT_LOG_N = 22;

/** None of the identities can open the file. */
export class NoMatchingIdentity extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoMatchingIdentity";
  }
}

function seal(key: Uint8Array, plain: Uint8Array): Uint8Array {
  const cipher = createCipheriv("chacha20-poly1305", key, ZERO_NONCE, { authTagLength: 16 });
  return new Uint8Array(Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]));
}

function open(key: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
  if (sealed.length < 16) return undefined;
  const decipher = createDecipheriv("chacha20-poly1305", key, ZERO_NONCE, { authTagLength: 16 });
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return new Uint8Array(
      Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]),
    );
  } catch {
    return undefined;
  }
}

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", ikm, salt, info, 32));
}

function scryptKey(passphrase: string, salt: Uint8Array, logN: number): Uint8Array {
  const N = 2 ** logN;
  return new Uint8Array(
    scryptSync(passphrase, Buffer.concat([Buffer.from(SCRYPT_LABEL), salt]), 32, {
      N,
      r: 8,
      p: 1,
      maxmem: 129 * 8 * N + 1024 * 1024,
    }),
  );
}

/** The stanzas that give `fileKey` to `recipients`. */
export function wrapFileKey(fileKey: Uint8Array, recipients: Recipients): Stanza[] {
  if (recipients.kind === "passphrase") {
    const salt = new Uint8Array(randomBytes(16));
    const key = scryptKey(recipients.passphrase, salt, SCRYPT_LOG_N);
    return [{
      type: "scrypt",
      args: [base64Encode(salt), String(SCRYPT_LOG_N)],
      body: seal(key, fileKey),
    }];
  }
  return recipients.points.map((point) => {
    const ephemeral = new Uint8Array(randomBytes(32));
    const share = publicPointOf(ephemeral);
    const shared = x25519(ephemeral, point);
    if (!shared) throw new Error("an X25519 recipient is a low-order point");
    const key = hkdf(shared, concat(share, point), X25519_INFO);
    return { type: "X25519", args: [base64Encode(share)], body: seal(key, fileKey) };
  });
}

/**
 * The file key, from the first stanza one of `identities` opens.
 * @throws {NoMatchingIdentity} when none does
 * @throws {AgeFormatError} when a stanza we know is malformed
 */
export function unwrapFileKey(stanzas: readonly Stanza[], identities: Identities): Uint8Array {
  const scrypt = stanzas.filter((s) => s.type === "scrypt");
  if (scrypt.length > 0 && stanzas.length > 1) {
    throw new AgeFormatError("a passphrase stanza must be the only one");
  }
  if (identities.kind === "passphrase") {
    if (scrypt.length === 0) {
      throw new NoMatchingIdentity("it was encrypted to keys, not with a passphrase");
    }
    const [{ args, body }] = scrypt;
    const salt = args.length === 2 ? base64Decode(args[0]) : undefined;
    const logN = args.length === 2 && /^[1-9][0-9]?$/.test(args[1]) ? Number(args[1]) : 0;
    if (salt?.length !== 16 || logN === 0 || body.length !== 32) {
      throw new AgeFormatError("its passphrase stanza is malformed");
    }
    if (logN > MAX_SCRYPT_LOG_N) {
      throw new AgeFormatError(`its passphrase work factor (2^${logN}) is too high`);
    }
    const fileKey = open(scryptKey(identities.passphrase, salt, logN), body);
    if (!fileKey) throw new NoMatchingIdentity("the passphrase is wrong");
    return fileKey;
  }
  if (scrypt.length > 0) {
    throw new NoMatchingIdentity("it was encrypted with a passphrase, not to keys");
  }
  for (const stanza of stanzas.filter((s) => s.type === "X25519")) {
    const share = stanza.args.length === 1 ? base64Decode(stanza.args[0]) : undefined;
    if (share?.length !== 32 || stanza.body.length !== 32) {
      throw new AgeFormatError("an X25519 stanza is malformed");
    }
    for (const secret of identities.secrets) {
      const shared = x25519(secret, share);
      if (!shared) throw new AgeFormatError("an X25519 stanza has a low-order share");
      const key = hkdf(shared, concat(share, publicPointOf(secret)), X25519_INFO);
      const fileKey = open(key, stanza.body);
      if (fileKey) return fileKey;
    }
  }
  throw new NoMatchingIdentity("none of the identities given is one of its recipients");
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
