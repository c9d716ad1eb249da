/**
 * The part of an encrypted backup's metadata only the key holder may read:
 * its source, content checksum(s) and host. It is sealed under a key
 * derived from the backup's own age file key, so whoever can decrypt the
 * backup can read it, and nobody else; no second passphrase prompt or
 * scrypt run is needed.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto";
import type { BackupMetadata, SourceInfo } from "./metadata.ts";
import { MetadataError } from "./metadata.ts";

/** What is sealed. */
export interface SealedFields {
  source: SourceInfo;
  sha256: string;
  identity?: string;
  madeOn: string;
  /** The clear tags, again: tags moved from another backup's metadata are found out. */
  originTag: string;
  contentTag: string;
}

const INFO = "tinybackup-metadata/1";
const ZERO_NONCE = new Uint8Array(12);

function keyOf(fileKey: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", fileKey, new Uint8Array(0), INFO, 32));
}

/** `fields` sealed under `fileKey`, as metadata records them (base64). */
export function seal(fields: SealedFields, fileKey: Uint8Array): string {
  const cipher = createCipheriv("chacha20-poly1305", keyOf(fileKey), ZERO_NONCE, {
    authTagLength: 16,
  });
  const body = cipher.update(JSON.stringify(fields));
  cipher.final();
  return Buffer.concat([body, cipher.getAuthTag()]).toString("base64");
}

/**
 * `metadata` with its sealed fields opened, as a plain backup's would read.
 * @throws {MetadataError} when they do not open under `fileKey` (swapped or altered)
 */
export function unseal(metadata: BackupMetadata, fileKey: Uint8Array): BackupMetadata {
  if (!metadata.encryption) return metadata;
  const sealed = Buffer.from(metadata.encryption.sealed, "base64");
  const decipher = createDecipheriv("chacha20-poly1305", keyOf(fileKey), ZERO_NONCE, {
    authTagLength: 16,
  });
  let fields: SealedFields;
  try {
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const text = Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - 16)),
      decipher.final(),
    ]);
    fields = JSON.parse(text.toString());
  } catch {
    throw new MetadataError("sealed part does not open with the backup's key");
  }
  if (typeof fields?.sha256 !== "string" || typeof fields.source !== "object") {
    throw new MetadataError("sealed part has no source or sha256");
  }
  const { originTag, contentTag } = metadata.encryption;
  if (fields.originTag !== originTag || fields.contentTag !== contentTag) {
    throw new MetadataError("tags in the clear that its sealed part does not have");
  }
  return {
    ...metadata,
    source: fields.source,
    sha256: fields.sha256,
    ...(fields.identity === undefined ? {} : { identity: fields.identity }),
    madeOn: fields.madeOn,
  };
}
