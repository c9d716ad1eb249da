/**
 * MySQL and MariaDB: each database as `mariadb-dump` (or `mysqldump`) with
 * --single-transaction (a consistent snapshot of InnoDB tables without
 * locking writers), routines, events and triggers, restorable with
 * `mariadb DB < dump`; with `all`, every database but the server's own
 * information_schema, performance_schema and sys, and (MariaDB) the users
 * and grants as `NAME.users`. Connections follow the clients' conventions:
 * ~/.my.cnf, MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_UNIX_PORT. No password is ever
 * passed on a command line (`ps` shows them), and none is kept in a job.
 */
import { UsageError } from "../../errors.ts";
import { CommandSource } from "../command_source.ts";
import { onHost, runProgram, shellFinds } from "../program_host.ts";
import type { SshHost } from "../../ssh/ssh_host.ts";
import type { Part } from "../part.ts";
import { setVariables } from "../../io/set_variables.ts";

/** What --mysql asks for, as a job keeps it. */
export interface MysqlSpec {
  kind: "mysql";
  /** A database name, or `all`. */
  database: string;
  /** With `all`: databases left out. */
  exclude: string[];
  /** The clients' connection variables as they were when the backup was set up (no password). */
  env: Record<string, string>;
  /** The host the programs run on (the variables apply there); absent for this one. */
  ssh?: SshHost;
}

/** The clients' environment variables that say where to connect; MYSQL_PWD is not one (see ~/.my.cnf). */
export const MYSQL_CONNECTION_VARIABLES = ["MYSQL_HOST", "MYSQL_TCP_PORT", "MYSQL_UNIX_PORT"];

export function mysqlConnectionEnvironment(): Record<string, string> {
  return setVariables(MYSQL_CONNECTION_VARIABLES);
}

/** The server's own databases, which `all` leaves out: they are made, not stored. */
const SERVER_DATABASES = ["information_schema", "performance_schema", "sys"];

/** The series of the users-and-grants part of an `all` backup: `NAME.users`. */
export const USERS_PART = "users";

/** What a dump holds and how it reads: consistent, complete, and the same bytes for the same data. */
const DUMP_OPTIONS = [
  "--single-transaction",
  "--routines",
  "--events",
  "--triggers",
  "--skip-dump-date",
];

type ConnectionProblem = "no such database" | "authentication" | "unreachable";

/** The kind of failure a MySQL or MariaDB client reported, by its error number. */
export function mysqlProblemOf(stderr: string): ConnectionProblem | undefined {
  if (/ERROR 1049\b|Unknown database/.test(stderr)) return "no such database";
  if (/ERROR (1045|1044|1698)\b|Access denied/.test(stderr)) return "authentication";
  if (/ERROR (2002|2003|2005|2013)\b|Can't connect/.test(stderr)) return "unreachable";
  return undefined;
}

/**
 * Checks the programs, the connection and the database, and gives one part
 * per database (`all`: one per database, `NAME.DATABASE`, and `NAME.users`
 * with MariaDB's dump).
 * @throws {UsageError} when a program is missing, the server cannot be
 *   reached or refuses the login, or the database does not exist
 */
export async function openMysql(spec: MysqlSpec, name: string): Promise<Part[]> {
  const host = spec.ssh;
  const mariadb = await shellFinds("mariadb-dump", host);
  const [dump, client] = mariadb ? ["mariadb-dump", "mariadb"] : ["mysqldump", "mysql"];
  for (const program of [dump, client]) {
    if (!(await shellFinds(program, host))) {
      throw new UsageError(
        `${program} not found${
          onHost(host)
        }: backing up MySQL or MariaDB needs its client programs`,
        "install them (Debian: apt-get install mariadb-client; macOS: brew install mariadb)",
      );
    }
  }
  const all = spec.database === "all";
  const names = await query(spec, client, all ? undefined : spec.database, [
    "SELECT schema_name FROM information_schema.schemata ORDER BY schema_name",
  ]);
  const part = (database: string) =>
    new CommandSource({
      argv: [dump, ...DUMP_OPTIONS, "--", database],
      label: `${dump} of database '${database}'${onHost(host)}`,
      okExit: [],
      env: spec.env,
      host,
      info: { kind: "mysql", database, server: describeServer(spec) },
    });
  if (!all) return [{ series: name, source: part(spec.database) }];
  const databases = names.filter((db) => !SERVER_DATABASES.includes(db));
  for (const excluded of spec.exclude) {
    if (!databases.includes(excluded)) {
      throw new UsageError(
        `--exclude-db ${excluded}: there is no such database on ${describeServer(spec)}`,
        `the databases there: ${databases.join(", ")}`,
      );
    }
  }
  const included = databases.filter((db) => !spec.exclude.includes(db));
  if (included.length === 0) {
    throw new UsageError(
      `--exclude-db leaves no database to back up on ${describeServer(spec)}`,
      "exclude fewer databases",
    );
  }
  const parts: Part[] = included.map((db) => ({ series: `${name}.${db}`, source: part(db) }));
  if (mariadb) {
    parts.push({
      series: `${name}.${USERS_PART}`,
      source: new CommandSource({
        // Users and grants as portable CREATE USER and GRANT statements; they hold password hashes.
        argv: [dump, "--system=users", "--skip-dump-date"],
        label: `${dump} --system=users${onHost(host)}`,
        okExit: [],
        env: spec.env,
        host,
        info: { kind: "mysql", database: `(${USERS_PART})`, server: describeServer(spec) },
      }),
    });
  }
  return parts;
}

/** Where the server is, for messages and metadata. */
function describeServer(spec: MysqlSpec): string {
  const { MYSQL_HOST: host, MYSQL_TCP_PORT: port, MYSQL_UNIX_PORT: socket } = spec.env;
  const address = host
    ? (port ? `${host}:${port}` : host)
    : (socket ?? "the server ~/.my.cnf names");
  return address + onHost(spec.ssh);
}

/** Runs SQL with the client, one value per line; a failure is a UsageError that says which. */
async function query(
  spec: MysqlSpec,
  client: string,
  database: string | undefined,
  statements: string[],
): Promise<string[]> {
  const { code, stdout, stderr: said } = await runProgram(spec.ssh, [
    client,
    ...[
      "--batch",
      "--skip-column-names",
      "--execute",
      statements.join("; "),
      ...(database === undefined ? [] : ["--", database]),
    ],
  ], spec.env);
  if (code === 0) return new TextDecoder().decode(stdout).split("\n").filter((l) => l !== "");
  const server = describeServer(spec);
  const first = said.split("\n")[0] ?? "";
  switch (mysqlProblemOf(said)) {
    case "no such database":
      throw new UsageError(
        `there is no database '${database}' on ${server}`,
        `see the databases with: ${client} -e 'SHOW DATABASES'`,
      );
    case "authentication":
      throw new UsageError(
        `the server on ${server} did not accept the login: ${first}`,
        "put the user and password in ~/.my.cnf ([client] user=..., password=...), mode 0600",
      );
    case "unreachable":
      throw new UsageError(
        `cannot reach the MySQL/MariaDB server on ${server}: ${first}`,
        "check that it runs, and ~/.my.cnf or MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_UNIX_PORT",
      );
    default:
      throw new UsageError(`${client} failed on ${server}: ${first}`);
  }
}
