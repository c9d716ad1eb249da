/**
 * What a run backs up, as plain settings: what the command line asked for
 * and what a scheduled job carries, so that the job's runs open the same
 * source again. Pure: opening one is open_source.ts.
 */

import type { MysqlSpec } from "./mysql/mysql_source.ts";
import type { PostgresSpec } from "./postgres/postgres_source.ts";
import { describeHost, parseSshDestination, sameHost, type SshHost } from "../ssh/ssh_host.ts";

export type SourceSpec =
  | PostgresSpec
  | MysqlSpec
  | {
    kind: "file";
    /** Absolute path, as the kernel resolves it. */
    path: string;
  }
  | {
    kind: "command";
    /** Run by `sh -c`; its standard output is the content. */
    command: string;
    /** Exit codes besides 0 that mean success. */
    okExit: number[];
    /** The host it runs on; absent for this one. */
    ssh?: SshHost;
  }
  | {
    kind: "folder";
    /** Absolute path of the folder, as the kernel resolves it. */
    path: string;
    /** --exclude patterns (see folder/exclude.ts). */
    exclude: string[];
    /** One tar per subfolder, and one for the files at the top. */
    split: boolean;
    /** The host the folder is on; absent for this one. */
    ssh?: SshHost;
  }
  | {
    kind: "sqlite";
    /** Absolute path of the database file, as the kernel resolves it. */
    path: string;
    /** The host the database is on; absent for this one. */
    ssh?: SshHost;
  };

/** The highest exit code a process can have. */
const MAX_EXIT_CODE = 255;

/** Whether `value` (parsed JSON) is a complete, valid SourceSpec. */
export function isSourceSpec(value: unknown): value is SourceSpec {
  const s = value as Record<string, unknown>;
  if (typeof s !== "object" || s === null) return false;
  if (s.ssh !== undefined && (s.kind === "file" || !isSshHost(s.ssh))) {
    return false;
  }
  switch (s.kind) {
    case "file":
    case "sqlite":
      return typeof s.path === "string" && s.path.startsWith("/");
    case "folder":
      return typeof s.path === "string" && s.path.startsWith("/") &&
        Array.isArray(s.exclude) && s.exclude.every((p) => typeof p === "string") &&
        typeof s.split === "boolean";
    case "command":
      return typeof s.command === "string" && s.command.trim() !== "" &&
        Array.isArray(s.okExit) && s.okExit.every(isExitCode);
    case "postgres":
    case "mysql":
      return typeof s.database === "string" && s.database !== "" &&
        Array.isArray(s.exclude) && s.exclude.every((name) => typeof name === "string") &&
        typeof s.env === "object" && s.env !== null &&
        Object.values(s.env).every((value) => typeof value === "string");
    default:
      return false;
  }
}

function isSshHost(value: unknown): boolean {
  const h = value as Record<string, unknown>;
  if (typeof h !== "object" || h === null || typeof h.destination !== "string") return false;
  // An IPv6 address is kept without the brackets it was given in.
  const parsed = parseSshDestination(h.destination) ??
    parseSshDestination(h.destination.replace(/^((?:[^@]+@)?)(.*:.*)$/, "$1[$2]"));
  const port = h.port as number | undefined;
  return parsed !== undefined && parsed.port === undefined &&
    (port === undefined || (Number.isSafeInteger(port) && port >= 1 && port <= 65535)) &&
    (h.config === undefined || (typeof h.config === "string" && h.config.startsWith("/")));
}

function isExitCode(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0 &&
    (value as number) <= MAX_EXIT_CODE;
}

/**
 * Parses `--ok-exit`: exit codes separated by commas, each 1 to 255.
 * Undefined when the text is not such a list.
 */
export function parseExitCodes(text: string): number[] | undefined {
  if (!/^\d{1,3}(,\d{1,3})*$/.test(text)) return undefined;
  const codes = text.split(",").map(Number);
  if (!codes.every((code) => code >= 1 && code <= MAX_EXIT_CODE)) return undefined;
  return [...new Set(codes)].sort((a, b) => a - b);
}

/** The local file a source reads, if it reads one: what "the source is gone" is about. */
export function sourcePath(spec: SourceSpec): string | undefined {
  if ((spec.kind === "folder" || spec.kind === "sqlite") && spec.ssh) return undefined;
  return spec.kind === "file" || spec.kind === "sqlite" || spec.kind === "folder"
    ? spec.path
    : undefined;
}

/** The host a source is on, when it is not this one. */
export function sourceHost(spec: SourceSpec): SshHost | undefined {
  return "ssh" in spec ? spec.ssh : undefined;
}

/** The source in words, for messages: a path, the command quoted, the database. */
export function describeSpec(spec: SourceSpec): string {
  const host = sourceHost(spec);
  return host ? `${describeHere(spec)} on ${describeHost(host)}` : describeHere(spec);
}

function describeHere(spec: SourceSpec): string {
  switch (spec.kind) {
    case "command":
      return `command '${spec.command}'`;
    case "postgres":
      return `PostgreSQL ${spec.database === "all" ? "(all databases)" : `'${spec.database}'`}`;
    case "folder":
      return `${spec.path}/`;
    case "mysql":
      return `MySQL ${spec.database === "all" ? "(all databases)" : `'${spec.database}'`}`;
    default:
      return spec.path;
  }
}

/** Whether two specs name the same source (the same settings, in any order of exit codes). */
export function sameSpec(a: SourceSpec, b: SourceSpec): boolean {
  if (!sameHost(sourceHost(a), sourceHost(b))) return false;
  if (a.kind === "command" && b.kind === "command") {
    return a.command === b.command && a.okExit.join() === b.okExit.join();
  }
  if (a.kind === "folder" && b.kind === "folder") {
    return a.path === b.path && a.split === b.split &&
      a.exclude.join("\0") === b.exclude.join("\0");
  }
  if (
    (a.kind === "postgres" && b.kind === "postgres") || (a.kind === "mysql" && b.kind === "mysql")
  ) {
    return a.database === b.database &&
      [...a.exclude].sort().join("\0") === [...b.exclude].sort().join("\0") &&
      JSON.stringify(Object.entries(a.env).sort()) === JSON.stringify(Object.entries(b.env).sort());
  }
  return a.kind === b.kind && "path" in a && "path" in b && a.path === b.path;
}

/** Programs a source runs, any one of `anyOf` will do, and the Debian package that has them. */
export interface ProgramNeed {
  anyOf: string[];
  package: string;
}

/**
 * What a source's runs need installed where they run (on the --ssh host,
 * if there is one), for doctor and `jobs` to check before a run fails.
 */
export function programsNeeded(spec: SourceSpec): ProgramNeed[] {
  switch (spec.kind) {
    case "sqlite":
      return spec.ssh ? [{ anyOf: ["sqlite3"], package: "sqlite3" }] : [];
    case "folder":
      // A run checks that they are GNU's, which say what changed while read.
      return spec.ssh
        ? [{ anyOf: ["gtar", "tar"], package: "tar" }, {
          anyOf: ["gfind", "find"],
          package: "findutils",
        }]
        : [];
    case "postgres":
      return [
        { anyOf: ["pg_dump"], package: "postgresql-client" },
        { anyOf: ["psql"], package: "postgresql-client" },
        ...(spec.database === "all"
          ? [{ anyOf: ["pg_dumpall"], package: "postgresql-client" }]
          : []),
      ];
    case "mysql":
      return [
        { anyOf: ["mariadb-dump", "mysqldump"], package: "mariadb-client" },
        { anyOf: ["mariadb", "mysql"], package: "mariadb-client" },
      ];
    default:
      return [];
  }
}
