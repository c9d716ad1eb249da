/**
 * A real PostgreSQL server for tests: initdb and pg_ctl in a temporary
 * folder, on 127.0.0.1 and a free high port, as a user that is not root
 * (PostgreSQL refuses root: as root, the tests run it as `postgres`, or
 * `nobody`). Stopped and removed by `await using`.
 *
 * Logins: `postgres` (superuser) is trusted; `secretive` needs its password
 * (scram-sha-256), for the tests of credentials.
 */
import { join } from "node:path";
import { type Requirement, requirement } from "./_requires.ts";

/** The password of the role `secretive`. */
export const SECRET = "s3cret-pa55";

/** Where initdb and pg_ctl are: pg_config's bindir, or Debian's versioned folders, newest first. */
async function serverBinaries(): Promise<string | undefined> {
  const candidates: string[] = [];
  try {
    const out = await new Deno.Command("pg_config", { args: ["--bindir"], stderr: "null" })
      .output();
    if (out.success) candidates.push(new TextDecoder().decode(out.stdout).trim());
  } catch {
    // No pg_config on PATH.
  }
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")].map((e) => e.name)
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // Not Debian's layout.
  }
  for (const dir of candidates) {
    if (await Deno.stat(join(dir, "initdb")).catch(() => undefined)) return dir;
  }
  return undefined;
}

/** What the PostgreSQL tests need: the server's programs, and the client's on PATH. */
export const POSTGRES: Requirement = requirement(async () => {
  const bin = await serverBinaries();
  if (!bin) return "PostgreSQL's initdb not found (Debian: apt-get install postgresql)";
  for (const program of ["pg_dump", "pg_dumpall", "pg_restore", "psql"]) {
    const found = await new Deno.Command("/bin/sh", {
      args: ["-c", 'command -v -- "$1"', "sh", program],
      stdout: "null",
    }).output();
    if (!found.success) {
      return `${program} not found on PATH (Debian: apt-get install postgresql-client)`;
    }
  }
  if (Deno.uid() === 0 && !(await userId("postgres")) && !(await userId("nobody"))) {
    return "no user to run PostgreSQL as (it refuses root)";
  }
  return undefined;
});

async function userId(name: string): Promise<{ uid: number; gid: number } | undefined> {
  const out = await new Deno.Command("id", { args: ["-u", name], stderr: "null" }).output();
  if (!out.success) return undefined;
  const gid = await new Deno.Command("id", { args: ["-g", name] }).output();
  return {
    uid: Number(new TextDecoder().decode(out.stdout)),
    gid: Number(new TextDecoder().decode(gid.stdout)),
  };
}

export interface PostgresServer extends AsyncDisposable {
  port: number;
  /** libpq's variables that reach it as the superuser `postgres`. */
  env: Record<string, string>;
  /** Runs SQL with psql as `postgres` in `database`; returns its unaligned output. */
  sql(database: string, sql: string): Promise<string>;
}

/** Starts a new server; about 2 s. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = (await serverBinaries())!;
  const dir = await Deno.makeTempDir({ prefix: "tinybackup-pg-" });
  await Deno.chmod(dir, 0o755);
  const owner = Deno.uid() === 0
    ? (await userId("postgres")) ?? (await userId("nobody"))
    : undefined;
  if (owner) await Deno.chown(dir, owner.uid, owner.gid);
  const asOwner = (program: string, args: string[]) =>
    owner
      ? new Deno.Command("setpriv", {
        args: [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, "--clear-groups", program, ...args],
        stdout: "piped",
        stderr: "piped",
      })
      : new Deno.Command(program, { args, stdout: "piped", stderr: "piped" });
  const data = join(dir, "data");
  const init = await asOwner(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "-A",
    "trust",
    "--no-sync",
  ]).output();
  if (!init.success) throw new Error(`initdb failed: ${new TextDecoder().decode(init.stderr)}`);
  await Deno.writeTextFile(
    join(data, "pg_hba.conf"),
    [
      "host all secretive 127.0.0.1/32 scram-sha-256",
      "host all all 127.0.0.1/32 trust",
      "local all all trust",
      "",
    ].join("\n"),
  );
  let port = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    port = 20_000 + Math.floor(Math.random() * 40_000);
    const start = await asOwner(join(bin, "pg_ctl"), [
      "-D",
      data,
      "-l",
      join(dir, "log"),
      "-w",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "start",
    ]).output();
    if (start.success) break;
    if (attempt === 19) {
      throw new Error(`pg_ctl start failed: ${await Deno.readTextFile(join(dir, "log"))}`);
    }
  }
  const env = { PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: "postgres" };
  const sql = async (database: string, text: string) => {
    const out = await new Deno.Command("psql", {
      args: ["-X", "-w", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", text],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`psql failed: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout).trim();
  };
  await sql("postgres", `CREATE ROLE secretive LOGIN SUPERUSER PASSWORD '${SECRET}'`);
  return {
    port,
    env,
    sql,
    async [Symbol.asyncDispose]() {
      await asOwner(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]).output();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
