/**
 * A real MariaDB server for tests: mariadb-install-db and mariadbd in a
 * temporary folder, on a socket there and a free port on 127.0.0.1, run as
 * `mysql` (or `nobody`) when the tests run as root. Clients find it through
 * a my.cnf in a HOME of its own (`home`), as a user's ~/.my.cnf would say.
 * Stopped and removed by `await using`.
 */
import { join } from "node:path";
import { type Requirement, requirement } from "./_requires.ts";

/** The password of the user `secretive`. */
export const MY_SECRET = "my-s3cret";

async function found(program: string): Promise<boolean> {
  const out = await new Deno.Command("/bin/sh", {
    args: ["-c", 'command -v -- "$1"', "sh", program],
    stdout: "null",
  }).output();
  return out.success;
}

const SERVER = ["/usr/sbin/mariadbd", "/usr/bin/mariadbd", "/usr/local/bin/mariadbd"];

async function serverProgram(): Promise<string | undefined> {
  for (const path of SERVER) if (await Deno.stat(path).catch(() => undefined)) return path;
  return undefined;
}

/** What the MariaDB tests need: the server, its installer, and the clients. */
export const MARIADB: Requirement = requirement(async () => {
  if (!(await serverProgram())) {
    return "mariadbd not found (Debian: apt-get install mariadb-server)";
  }
  for (const program of ["mariadb-install-db", "mariadb", "mariadb-dump"]) {
    if (!(await found(program))) {
      return `${program} not found on PATH (Debian: apt-get install mariadb-server)`;
    }
  }
  if (Deno.uid() !== 0) {
    return "the MariaDB tests start the server as root, running it as the user mysql";
  }
  return undefined;
});

export interface MariadbServer extends AsyncDisposable {
  /** A HOME whose .my.cnf reaches the server as root (unix_socket login). */
  home: string;
  socket: string;
  /** Runs SQL as root; returns its tab-separated output. */
  sql(sql: string, database?: string): Promise<string>;
}

async function idOf(name: string): Promise<{ uid: number; gid: number } | undefined> {
  const u = await new Deno.Command("id", { args: ["-u", name], stderr: "null" }).output();
  const g = await new Deno.Command("id", { args: ["-g", name], stderr: "null" }).output();
  if (!u.success || !g.success) return undefined;
  return {
    uid: Number(new TextDecoder().decode(u.stdout)),
    gid: Number(new TextDecoder().decode(g.stdout)),
  };
}

export async function startMariadb(): Promise<MariadbServer> {
  const dir = await Deno.makeTempDir({ prefix: "tinybackup-my-" });
  await Deno.chmod(dir, 0o755);
  const user = (await idOf("mysql")) ? "mysql" : "nobody";
  const owner = (await idOf(user))!;
  await Deno.chown(dir, owner.uid, owner.gid);
  const data = join(dir, "data");
  const socket = join(dir, "sock");
  // Its own temporary folder: servers started at once in the shared /tmp
  // remove each other's temporary tables.
  const tmp = join(dir, "tmp");
  await Deno.mkdir(tmp);
  await Deno.chown(tmp, owner.uid, owner.gid);
  const install = await new Deno.Command("mariadb-install-db", {
    args: [
      "--no-defaults",
      `--datadir=${data}`,
      `--user=${user}`,
      `--tmpdir=${tmp}`,
      "--skip-test-db",
      "--auth-root-authentication-method=socket",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!install.success) {
    throw new Error(`mariadb-install-db failed: ${new TextDecoder().decode(install.stderr)}`);
  }
  const home = join(dir, "home");
  await Deno.mkdir(home);
  await Deno.writeTextFile(join(home, ".my.cnf"), `[client]\nsocket=${socket}\nuser=root\n`, {
    mode: 0o600,
  });
  const sql = async (text: string, database?: string) => {
    const out = await new Deno.Command("mariadb", {
      args: ["--batch", "--skip-column-names", "-e", text, ...(database ? [database] : [])],
      env: { HOME: home },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`mariadb failed: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout).trim();
  };
  const errorLog = join(dir, "error.log");
  let server: Deno.ChildProcess | undefined;
  // A random port may be taken (the server then ends); try another.
  for (let attempt = 0; !server; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    await Deno.remove(errorLog).catch(() => undefined);
    const started = new Deno.Command((await serverProgram())!, {
      args: [
        "--no-defaults",
        `--datadir=${data}`,
        `--socket=${socket}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--user=${user}`,
        `--tmpdir=${tmp}`,
        `--pid-file=${join(dir, "pid")}`,
        `--log-error=${errorLog}`,
        "--innodb-flush-log-at-trx-commit=0",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    if (await answers(sql, started)) server = started;
    else {
      try {
        started.kill("SIGKILL");
      } catch {
        // It had ended already.
      }
      await started.status;
      const log = await Deno.readTextFile(errorLog).catch(() => "");
      if (attempt === 9 || !/bind on tcp\/ip port|address already in use/i.test(log)) {
        await Deno.remove(dir, { recursive: true });
        throw new Error(`mariadbd did not start:\n${log}`);
      }
    }
  }
  const running = server;
  await sql(
    `CREATE USER secretive@localhost IDENTIFIED BY '${MY_SECRET}'; GRANT ALL ON *.* TO secretive@localhost`,
  );
  return {
    home,
    socket,
    sql,
    async [Symbol.asyncDispose]() {
      running.kill("SIGTERM");
      await running.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * Waits until the server takes a query; false if it ended first or is not
 * up after a minute (a loaded CI machine starts InnoDB slowly).
 */
async function answers(
  sql: (text: string) => Promise<string>,
  server: Deno.ChildProcess,
): Promise<boolean> {
  let ended = false;
  server.status.then(() => ended = true);
  const deadline = Date.now() + 60_000;
  while (!ended && Date.now() < deadline) {
    try {
      await sql("SELECT 1");
      return true;
    } catch {
      await new Promise((wake) => setTimeout(wake, 100));
    }
  }
  return false;
}
