/**
 * PostgreSQL: each database as `pg_dump -Fc` (restorable with pg_restore),
 * and with `all`, every database that takes connections plus the roles
 * (`pg_dumpall --globals-only`). Connections follow libpq's conventions
 * (PGHOST, PGPORT, PGUSER, ~/.pgpass, PGPASSFILE, service files, a
 * connection URI), and every program runs with -w: none ever waits for a
 * password, and a password never goes on a command line.
 *
 * Everything a scheduled run needs is checked up front, before anything is
 * written: the programs, the connection, the database, and that pg_dump is
 * not older than the server (it refuses to dump a newer one).
 */
import { UsageError } from "../../errors.ts";
import { CommandSource } from "../command_source.ts";
import { onHost, runProgram, shellFinds } from "../program_host.ts";
import type { SshHost } from "../../ssh/ssh_host.ts";
import { setVariables } from "../../io/set_variables.ts";
import { HeadMaskedHash, LineMaskedHash } from "../identity.ts";
import type { Part } from "../part.ts";
import { CUSTOM_HEAD_BYTES, customArchiveTime, restrictKeyMasked } from "./pg_dump_format.ts";
import {
  carriesPassword,
  clientMajorVersion,
  connectionProblemOf,
  isConnectionString,
  serverMajorVersion,
  versionText,
} from "./pg_messages.ts";

/** What --postgres asks for, as a job keeps it. */
export interface PostgresSpec {
  kind: "postgres";
  /** A database name, a connection URI or keywords, or `all`. */
  database: string;
  /** With `all`: databases left out. */
  exclude: string[];
  /** libpq's connection variables as they were when the backup was set up (no password). */
  env: Record<string, string>;
  /** The host the programs run on (the variables apply there); absent for this one. */
  ssh?: SshHost;
}

/**
 * libpq's environment variables that say where and how to connect, kept
 * with a scheduled job (which at(1) runs with little of the environment).
 * PGPASSWORD is not among them: it belongs in ~/.pgpass.
 */
export const CONNECTION_VARIABLES = [
  "PGHOST",
  "PGHOSTADDR",
  "PGPORT",
  "PGUSER",
  "PGPASSFILE",
  "PGSERVICE",
  "PGSERVICEFILE",
  "PGSSLMODE",
  "PGSSLROOTCERT",
  "PGSSLCERT",
  "PGSSLKEY",
  "PGCONNECT_TIMEOUT",
  "PGTARGETSESSIONATTRS",
];

/** The connection variables set in this process's environment. */
export function connectionEnvironment(): Record<string, string> {
  return setVariables(CONNECTION_VARIABLES);
}

/** The series of the roles part of an `all` backup: `NAME.globals`. */
export const GLOBALS_PART = "globals";

/** The databases `all` backs up: every one that takes connections, templates left out. */
const LIST_DATABASES =
  "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname";

/**
 * Checks the connection and the programs, and gives one part per database
 * (`all`: one per database, named `NAME.DATABASE`, and `NAME.globals`).
 * @param name the series name, or with `all` the prefix of the parts' names
 * @throws {UsageError} when a program is missing or too old, the server
 *   cannot be reached or refuses us, or the database does not exist
 */
export async function openPostgres(spec: PostgresSpec, name: string): Promise<Part[]> {
  if (carriesPassword(spec.database)) {
    throw new UsageError(
      "the connection string holds a password, which would show on command lines and in scheduled jobs",
      "put the password in ~/.pgpass (or the file PGPASSFILE names) instead",
    );
  }
  const all = spec.database === "all";
  const programs = all ? ["pg_dump", "pg_dumpall", "psql"] : ["pg_dump", "psql"];
  for (const program of programs) await requireProgram(program, spec.ssh);

  const server = describeServer(spec);
  // `all` asks the maintenance database; one database is asked itself, so a missing one shows.
  const asked = all ? "postgres" : spec.database;
  const [versionNum, ...names] = await query(spec, asked, [
    "SHOW server_version_num",
    ...(all ? [LIST_DATABASES] : []),
  ]);
  await requireRecentEnough(serverMajorVersion(versionNum), server, spec.ssh);

  if (!all) return [{ series: name, source: dumpOf(spec, spec.database, server) }];
  for (const excluded of spec.exclude) {
    if (!names.includes(excluded)) {
      throw new UsageError(
        `--exclude-db ${excluded}: there is no such database on ${server}`,
        `the databases there: ${names.join(", ")}`,
      );
    }
  }
  const included = names.filter((db) => !spec.exclude.includes(db));
  if (included.length === 0) {
    throw new UsageError(
      `--exclude-db leaves no database to back up on ${server}`,
      "exclude fewer databases",
    );
  }
  return [
    ...included.map((db) => ({ series: `${name}.${db}`, source: dumpOf(spec, db, server) })),
    { series: `${name}.${GLOBALS_PART}`, source: globalsOf(spec, server) },
  ];
}

/** `pg_dump -Fc` of one database, uncompressed (-Z0): tinybackup compresses, on every core. */
function dumpOf(spec: PostgresSpec, database: string, server: string): CommandSource {
  return new CommandSource({
    argv: [
      "pg_dump",
      "--format=custom",
      "--compress=0",
      "--no-password",
      `--dbname=${conninfo(database)}`,
    ],
    label: `pg_dump of database '${database}'${onHost(spec.ssh)}`,
    okExit: [],
    env: spec.env,
    host: spec.ssh,
    info: { kind: "postgres", database, server },
    identityHash: () => new HeadMaskedHash(customArchiveTime, CUSTOM_HEAD_BYTES),
  });
}

/** The roles and tablespaces: they hold password hashes, and are stored private, as every dump is. */
function globalsOf(spec: PostgresSpec, server: string): CommandSource {
  return new CommandSource({
    argv: ["pg_dumpall", "--globals-only", "--no-password", `--dbname=${conninfo("postgres")}`],
    label: `pg_dumpall --globals-only${onHost(spec.ssh)}`,
    okExit: [],
    env: spec.env,
    host: spec.ssh,
    info: { kind: "postgres", database: `(${GLOBALS_PART})`, server },
    identityHash: () => new LineMaskedHash(restrictKeyMasked),
  });
}

/**
 * A database as libpq's --dbname takes it: a connection string as given,
 * a plain name quoted as the keyword dbname, so that a name with '=' in it
 * is still a name.
 */
function conninfo(database: string): string {
  if (isConnectionString(database)) return database;
  return `dbname='${database.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/**
 * Where the server is, for messages and metadata: the URI's host, or PGHOST
 * and PGPORT, and the host they are seen from when that is not this one.
 */
function describeServer(spec: PostgresSpec): string {
  return serverAddress(spec) + onHost(spec.ssh);
}

function serverAddress(spec: PostgresSpec): string {
  if (/^postgres(ql)?:\/\//.test(spec.database)) {
    return spec.database.replace(/^postgres(ql)?:\/\//, "").split(/[/?#]/)[0].replace(/^.*@/, "") ||
      "the local server";
  }
  const host = spec.env.PGHOST ?? "the local socket";
  return spec.env.PGPORT ? `${host}:${spec.env.PGPORT}` : host;
}

/** Runs SQL statements with psql, one result per line; a failure is a UsageError that says which. */
async function query(
  spec: PostgresSpec,
  database: string,
  statements: string[],
): Promise<string[]> {
  const { code, stdout, stderr: said } = await runProgram(spec.ssh, [
    "psql",
    ...[
      "--no-psqlrc",
      "--no-password",
      "--no-align",
      "--tuples-only",
      "--quiet",
      "--set=ON_ERROR_STOP=1",
      `--dbname=${conninfo(database)}`,
      ...statements.flatMap((sql) => ["--command", sql]),
    ],
  ], spec.env);
  if (code !== 0) throw connectionError(spec, database, said);
  return new TextDecoder().decode(stdout).split("\n").filter((line) => line !== "");
}

function connectionError(spec: PostgresSpec, database: string, said: string): UsageError {
  const server = describeServer(spec);
  // psql's first line says what failed; the lines after it, where.
  const first = (said.split("\n")[0] ?? "").replace(/^(psql|pg_dump): error: /, "");
  switch (connectionProblemOf(said)) {
    case "no such database":
      return new UsageError(
        `there is no database '${database}' on ${server}`,
        "see the databases with: psql --list",
      );
    case "authentication":
      return new UsageError(
        `PostgreSQL on ${server} did not accept the login: ${first}`,
        "set PGUSER, and put the password in ~/.pgpass (libpq's conventions); tinybackup never asks for one",
      );
    case "unreachable":
      return new UsageError(
        `cannot reach PostgreSQL on ${server}: ${first}`,
        "check that the server runs, and PGHOST and PGPORT (or the connection URI)",
      );
    default:
      return new UsageError(`psql failed on ${server}: ${first}`);
  }
}

async function requireProgram(program: string, host: SshHost | undefined): Promise<void> {
  if (!(await shellFinds(program, host))) {
    throw new UsageError(
      `${program} not found${onHost(host)}: backing up PostgreSQL needs its client programs`,
      "install them (Debian: apt-get install postgresql-client; macOS: brew install libpq)",
    );
  }
}

/** pg_dump refuses to dump a server newer than itself: say so before anything runs. */
async function requireRecentEnough(
  server: number | undefined,
  where: string,
  host: SshHost | undefined,
): Promise<void> {
  const { stdout } = await runProgram(host, ["pg_dump", "--version"]);
  const client = clientMajorVersion(new TextDecoder().decode(stdout));
  if (server === undefined || client === undefined || client >= server) return;
  throw new UsageError(
    `pg_dump ${versionText(client)} cannot dump the newer PostgreSQL ${
      versionText(server)
    } on ${where}`,
    `install the client programs of PostgreSQL ${
      versionText(server)
    } or later (Debian: postgresql-client-${versionText(server)}) and put them first on PATH`,
  );
}
