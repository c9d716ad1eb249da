/**
 * A backup's metadata: what it holds and how to check it. One small JSON file
 * per backup, in the destination's hidden `.tinybackup` folder. Parsing is
 * strict: metadata that does not hold together is never trusted, and a
 * checksum of its own fields shows any change to them.
 */
import { createHash } from "node:crypto";
import {
  type Compression,
  COMPRESSIONS,
  parseBackupFileName,
  seriesNameProblem,
} from "./naming.ts";

/** The folder inside a destination that holds metadata and unfinished work. */
export const METADATA_DIR = ".tinybackup";

/** Written into every metadata file; a reader refuses any other. */
export const METADATA_FORMAT = "tinybackup-backup/2";

/** Where the backed-up bytes came from. */
export type SourceInfo =
  | {
    kind: "file";
    /** Absolute path of the file. */
    path: string;
    /** Permission bits of the file. */
    mode: number;
    /** Modification time of the file, ISO 8601. */
    mtime: string;
  }
  | { kind: "stdin" }
  | {
    kind: "command";
    /** The command line given to `sh -c`. */
    command: string;
    /** The host it ran on through ssh; absent for this one. */
    host?: string;
  }
  | {
    kind: "folder";
    /** Absolute path of the folder. */
    path: string;
    /** The host the folder is on, reached through ssh; absent for this one. */
    host?: string;
  }
  | {
    kind: "mysql";
    /** The database, or `(users)` for the users and grants. */
    database: string;
    /** Where the server is, as the connection settings said. */
    server: string;
  }
  | {
    kind: "postgres";
    /** The database, `(globals)` for the roles, or a connection string without password. */
    database: string;
    /** Where the server is, as the connection settings said. */
    server: string;
  }
  | {
    kind: "sqlite";
    /** Absolute path of the database file. */
    path: string;
    /** Permission bits of the database file. */
    mode: number;
    /** Modification time of the database file, ISO 8601. */
    mtime: string;
    /** The host the database is on, reached through ssh; absent for this one. */
    host?: string;
  }
  /** An encrypted backup's: the source is in its sealed part (sealed_metadata.ts). */
  | { kind: "sealed" };

/**
 * What an encrypted backup's metadata holds instead of its source, content
 * checksum and host, which only the key holder may learn (sealed_metadata.ts).
 */
export interface Encryption {
  format: "age";
  /** This machine's keyed tag of the source (series_tags.ts): the series check without the path. */
  originTag: string;
  /** This machine's keyed tag of the content and its readers: "unchanged" without a checksum. */
  contentTag: string;
  /** The source, sha256, identity and madeOn, encrypted under the backup's file key; base64. */
  sealed: string;
}

export interface BackupMetadata {
  format: typeof METADATA_FORMAT;
  /** Name of the backup file in the destination. */
  file: string;
  /** Series name. */
  name: string;
  /** Orders the series whatever the clock said: one more than the highest before it (see retention.ts). */
  generation: number;
  source: SourceInfo;
  /** When the backup was taken, ISO 8601 UTC with milliseconds. */
  time: string;
  compression: Compression;
  /** Size of the original content in bytes. */
  size: number;
  /** Size of the backup file in bytes. */
  storedSize: number;
  /** SHA-256 of the backup file, lowercase hex: covers bytes no decompressor checks. */
  storedSha256: string;
  /** SHA-256 of the original content, lowercase hex; absent (sealed) when encrypted. */
  sha256?: string;
  /**
   * For a dump that embeds what changes every time (a creation time), the
   * SHA-256 of its content with that masked: what "unchanged" compares.
   * Absent when it would equal sha256.
   */
  identity?: string;
  /** True when the source changed while it was read and the last read was accepted. */
  changedWhileRead: boolean;
  /** The tinybackup version that wrote the backup. */
  tool: string;
  /**
   * The host name of the machine that made the backup, so that hosts
   * sharing a destination (one bucket) keep their series apart. Absent in
   * backups made before it was recorded.
   */
  madeOn?: string;
  /** Present when the backup is encrypted: then source is `sealed` and sha256, identity and madeOn absent. */
  encryption?: Encryption;
}

/** The metadata file name for the backup file `file`, relative to the destination. */
export function metadataPathFor(file: string): string {
  return `${METADATA_DIR}/${file}.json`;
}

/**
 * Serialises metadata for writing, with `metadataSha256`: the SHA-256 of the
 * other fields as compact JSON, in their order, so that damage to a field
 * nothing else checks (the source's mode, say) still shows.
 */
export function formatMetadata(metadata: BackupMetadata): string {
  return JSON.stringify({ ...metadata, metadataSha256: checksumOf(metadata) }, null, 2) + "\n";
}

function checksumOf(fields: object): string {
  return createHash("sha256").update(JSON.stringify(fields)).digest("hex");
}

/** Metadata that cannot be trusted; the message says why. */
export class MetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MetadataError";
  }
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Parses and checks metadata read from the file for backup `file`.
 * @throws {MetadataError} when the text is not complete, consistent metadata.
 */
export function parseMetadata(text: string, file: string): BackupMetadata {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MetadataError("metadata is not valid JSON");
  }
  const m = value as Record<string, unknown>;
  const fail = (what: string): never => {
    throw new MetadataError(`metadata has ${what}`);
  };
  if (typeof m !== "object" || m === null || Array.isArray(m)) fail("no fields");
  if (m.format !== METADATA_FORMAT) fail(`an unknown format ${JSON.stringify(m.format)}`);
  if (m.file !== file) fail("a file name that does not match its backup");
  const named = parseBackupFileName(file) ?? fail("a file name that is not a backup name");
  if (typeof m.name !== "string" || seriesNameProblem(m.name)) fail("an invalid series name");
  // The file name may carry a shortened series name (see backupFileName).
  if (!(m.name as string).startsWith(named.series)) {
    fail("a series name its file name does not have");
  }
  if (!Number.isSafeInteger(m.generation) || (m.generation as number) < 1) {
    fail("an invalid generation");
  }
  if (typeof m.time !== "string" || !isIsoTime(m.time)) fail("an invalid time");
  if (!COMPRESSIONS.includes(m.compression as Compression)) fail("an unknown compression");
  if (m.compression !== named.compression) fail("a compression its file name does not have");
  if (!isSize(m.size)) fail("an invalid size");
  if (!isSize(m.storedSize)) fail("an invalid stored size");
  if (m.encryption === undefined) {
    if (named.encrypted) fail("an encrypted file name but no encryption");
    if (typeof m.sha256 !== "string" || !isHash(m.sha256)) fail("an invalid sha256");
  } else {
    if (!named.encrypted) fail("encryption its file name does not have");
    if (!isEncryption(m.encryption)) fail("an invalid encryption");
    if (m.sha256 !== undefined || m.identity !== undefined || m.madeOn !== undefined) {
      fail("in the clear what encryption seals");
    }
    if ((m.source as { kind?: unknown })?.kind !== "sealed") {
      fail("an encrypted backup's source in the clear");
    }
  }
  if (typeof m.storedSha256 !== "string" || !/^[0-9a-f]{64}$/.test(m.storedSha256)) {
    fail("an invalid stored sha256");
  }
  if (
    m.identity !== undefined &&
    (typeof m.identity !== "string" || !/^[0-9a-f]{64}$/.test(m.identity))
  ) {
    fail("an invalid identity");
  }
  if (typeof m.changedWhileRead !== "boolean") fail("an invalid changedWhileRead");
  if (typeof m.tool !== "string") fail("an invalid tool");
  if (m.madeOn !== undefined && (typeof m.madeOn !== "string" || m.madeOn === "")) {
    fail("an invalid madeOn");
  }
  if (!isSourceInfo(m.source)) fail("an invalid source");
  const { metadataSha256, ...fields } = m;
  if (metadataSha256 !== checksumOf(fields)) fail("a checksum that does not match its fields");
  return fields as unknown as BackupMetadata;
}

function isHash(value: unknown): boolean {
  return typeof value === "string" && /^[0-9a-f]{64}$/.test(value);
}

function isEncryption(value: unknown): boolean {
  const e = value as Record<string, unknown>;
  return typeof e === "object" && e !== null && e.format === "age" && isHash(e.originTag) &&
    isHash(e.contentTag) && typeof e.sealed === "string" && /^[A-Za-z0-9+/]+={0,2}$/.test(e.sealed);
}

function isIsoTime(text: string): boolean {
  return ISO_TIME.test(text) && !Number.isNaN(Date.parse(text)) &&
    new Date(text).toISOString() === text;
}

function isSize(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isSourceInfo(value: unknown): boolean {
  const s = value as Record<string, unknown>;
  if (typeof s !== "object" || s === null) return false;
  switch (s.kind) {
    case "stdin":
    case "sealed":
      return true;
    case "command":
      return typeof s.command === "string" && isOptionalText(s.host);
    case "postgres":
    case "mysql":
      return typeof s.database === "string" && typeof s.server === "string";
    case "folder":
      return typeof s.path === "string" && s.path.startsWith("/") && isOptionalText(s.host);
    case "file":
    case "sqlite":
      return typeof s.path === "string" && s.path.startsWith("/") &&
        Number.isSafeInteger(s.mode) && typeof s.mtime === "string" &&
        (s.kind === "sqlite" ? isOptionalText(s.host) : s.host === undefined);
    default:
      return false;
  }
}

function isOptionalText(value: unknown): boolean {
  return value === undefined || typeof value === "string";
}

/**
 * What "unchanged" compares: the identity where a backup has one, else its
 * content's sha256; for an encrypted backup, its content tag.
 */
export function identityOf(
  metadata: { sha256?: string; identity?: string; encryption?: { contentTag: string } },
): string {
  return metadata.encryption?.contentTag ?? metadata.identity ?? metadata.sha256!;
}

/**
 * Whether two sources are the same series origin: the same file, the same
 * database, or both a stream (stdin or a command's output). A stream's
 * series is named by the user (--name is required), so the name is its
 * identity: a command can be changed, or a pipe replaced by --command, and
 * the series goes on. A file's name comes from its path by default, so two
 * files of the same name must never share a series.
 */
export function sameOrigin(a: SourceInfo, b: SourceInfo): boolean {
  return originOf(a) === originOf(b);
}

/**
 * Whether two backups (or a backup and a run) belong to one series' origin:
 * the same origin (sameOrigin), made on the same machine. A backup that
 * does not say where it was made belongs to any machine's series, as
 * before machines were recorded.
 */
export function sameSeriesOrigin(
  backup: Pick<BackupMetadata, "source" | "madeOn" | "encryption">,
  here: Origin,
): boolean {
  if (backup.encryption) return backup.encryption.originTag === here.originTag;
  return sameOrigin(backup.source, here.source) &&
    (backup.madeOn === undefined || backup.madeOn === here.madeOn);
}

/**
 * Where a run's backups come from: the source, this machine, and (when this
 * machine has a tag key, series_tags.ts) the tag an encrypted backup records instead.
 */
export interface Origin {
  source: SourceInfo;
  madeOn: string;
  originTag?: string;
}

/** What identifies a source's series, whoever made it: the key of originTag. */
export function originOf(source: SourceInfo): string {
  switch (source.kind) {
    case "stdin":
    case "command":
      return "stream";
    case "sealed":
      // Never a run's own source: only a backup's, read without its key.
      return "sealed";
    case "postgres":
    case "mysql":
      return JSON.stringify([source.kind, source.database, source.server]);
    case "folder":
    case "sqlite":
      return JSON.stringify([source.kind, source.path, source.host ?? null]);
    default:
      return JSON.stringify([source.kind, source.path]);
  }
}

/** The origins (see originOf) a local file at `path` may have been backed up as: a file, or a SQLite database. */
export function originsOfFile(path: string): string[] {
  return [JSON.stringify(["file", path]), JSON.stringify(["sqlite", path, null])];
}

/** A short description of a source for messages: its path, its command, or "stdin". */
export function describeSource(source: SourceInfo): string {
  switch (source.kind) {
    case "stdin":
      return "stdin";
    case "sealed":
      return "an encrypted source";
    case "command":
      return `command '${source.command}'${source.host ? ` on ${source.host}` : ""}`;
    case "postgres":
      return `PostgreSQL database '${source.database}' on ${source.server}`;
    case "mysql":
      return `MySQL/MariaDB database '${source.database}' on ${source.server}`;
    case "folder":
      return `the folder ${source.path}${source.host ? ` on ${source.host}` : ""}`;
    case "sqlite":
      return `the SQLite database ${source.path}${source.host ? ` on ${source.host}` : ""}`;
    default:
      return source.path;
  }
}

/** The local file a backup was read from, if any: what `--file` selects in list and prune. */
export function sourceFileOf(source: SourceInfo): string | undefined {
  if ((source.kind === "folder" || source.kind === "sqlite") && source.host) return undefined;
  return source.kind === "file" || source.kind === "sqlite" || source.kind === "folder"
    ? source.path
    : undefined;
}
