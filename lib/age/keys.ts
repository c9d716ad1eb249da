/**
 * age's X25519 keys: the secret `AGE-SECRET-KEY-1...` (an identity) and its
 * public `age1...` (a recipient), both Bech32; and the X25519 function
 * itself, from node:crypto (OpenSSL), which takes raw keys only in DER dress.
 */
import { createPrivateKey, createPublicKey, diffieHellman, randomBytes } from "node:crypto";
import { bech32Decode, bech32Encode } from "./bech32.ts";

/** DER of a PKCS #8 X25519 private key, up to the 32 raw bytes that follow it. */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
/** DER of an SPKI X25519 public key, up to the 32 raw bytes that follow it. */
const SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

const RECIPIENT_PREFIX = "age";
const IDENTITY_PREFIX = "age-secret-key-";

function privateKeyOf(secret: Uint8Array) {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, secret]),
    format: "der",
    type: "pkcs8",
  });
}

function publicKeyOf(point: Uint8Array) {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, point]), format: "der", type: "spki" });
}

/** X25519(secret, point); undefined when the result is all zeros (a low-order point). */
export function x25519(secret: Uint8Array, point: Uint8Array): Uint8Array | undefined {
  try {
    const shared = new Uint8Array(
      diffieHellman({ privateKey: privateKeyOf(secret), publicKey: publicKeyOf(point) }),
    );
    return shared.some((b) => b !== 0) ? shared : undefined;
  } catch {
    // OpenSSL refuses an all-zero result itself.
    return undefined;
  }
}

/** The public point of an X25519 secret. */
export function publicPointOf(secret: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyOf(secret)).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

/** A new identity and its recipient, in their text forms. */
export function generateKeyPair(): { identity: string; recipient: string } {
  const secret = new Uint8Array(randomBytes(32));
  return { identity: formatIdentity(secret), recipient: formatRecipient(publicPointOf(secret)) };
}

export function formatRecipient(point: Uint8Array): string {
  return bech32Encode(RECIPIENT_PREFIX, point);
}

function formatIdentity(secret: Uint8Array): string {
  return bech32Encode(IDENTITY_PREFIX, secret).toUpperCase();
}

/**
 * The public point of an `age1...` recipient, or undefined when the text is
 * not one, or names a low-order point (every file key sent to it would be
 * readable by all: age refuses to encrypt to one).
 */
export function parseRecipient(text: string): Uint8Array | undefined {
  if (text !== text.toLowerCase()) return undefined;
  const decoded = bech32Decode(text);
  if (decoded?.prefix !== RECIPIENT_PREFIX || decoded.data.length !== 32) return undefined;
  return x25519(new Uint8Array(randomBytes(32)), decoded.data) ? decoded.data : undefined;
}

/** The secret of an `AGE-SECRET-KEY-1...` identity, or undefined when the text is not one. */
export function parseIdentity(text: string): Uint8Array | undefined {
  if (text !== text.toUpperCase()) return undefined;
  const decoded = bech32Decode(text);
  return decoded?.prefix === IDENTITY_PREFIX && decoded.data.length === 32
    ? decoded.data
    : undefined;
}

/**
 * The keys in the text of a recipients or identities file, as age reads
 * them: one per line, `#` starts a comment line, blank lines are skipped.
 * Returns the problem with the first line that is none of these instead.
 */
export function keysInText<T>(
  text: string,
  parse: (line: string) => T | undefined,
): { keys: T[] } | { badLine: number } {
  const keys: T[] = [];
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = (raw.endsWith("\r") ? raw.slice(0, -1) : raw).trim();
    if (line === "" || line.startsWith("#")) continue;
    const key = parse(line);
    if (key === undefined) return { badLine: index + 1 };
    keys.push(key);
  }
  return { keys };
}
