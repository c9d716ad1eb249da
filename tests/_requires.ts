/**
 * What tests need from outside Deno: programs, a running at daemon, root.
 * Where something is missing, the tests that need it are ignored and one
 * line says so (`SKIPPED <tests>: <reason>` on stderr), so the suite passes
 * on a machine with only Deno. Under CI (`CI` set to anything), where
 * .ci/run installs everything, a missing piece is a failed test instead: a
 * skip there would hide a broken setup.
 *
 * POSIX sh and coreutils are taken as given, like Deno itself.
 */
import { join } from "node:path";

/** Something a test needs; checked once, however many tests ask. */
export interface Requirement {
  /** Why it is not met here, or undefined when it is. */
  unmet(): Promise<string | undefined>;
}

/** A requirement from a check that says why it is not met, or undefined. */
export function requirement(check: () => Promise<string | undefined>): Requirement {
  let result: Promise<string | undefined> | undefined;
  return { unmet: () => result ??= check() };
}

/** The Debian package of each program tests run, for the hint. */
const PACKAGES: Record<string, string> = {
  at: "at",
  atq: "at",
  atrm: "at",
  zstd: "zstd",
  gunzip: "gzip",
  setpriv: "util-linux",
  flock: "util-linux",
  unshare: "util-linux",
  rclone: "rclone",
  openssl: "openssl",
  useradd: "passwd",
  chpasswd: "passwd",
  mount: "mount",
  umount: "mount",
  python3: "python3",
  setfacl: "acl",
  getfacl: "acl",
  faketime: "faketime",
  script: "bsdutils",
  sqlite3: "sqlite3",
  pg_dump: "postgresql-client",
  pg_dumpall: "postgresql-client",
  pg_restore: "postgresql-client",
  psql: "postgresql-client",
  createdb: "postgresql-client",
  tar: "tar",
  mariadb: "mariadb-client",
  "mariadb-dump": "mariadb-client",
  bsdtar: "libarchive-tools",
  age: "age",
  "age-keygen": "age",
};

/** Programs that must be on PATH, as executable files. */
export function programs(...names: string[]): Requirement {
  return requirement(async () => {
    const missing = [];
    for (const name of names) if (!(await onPath(name))) missing.push(name);
    if (missing.length === 0) return undefined;
    const packages = [...new Set(missing.map((name) => PACKAGES[name] ?? name))];
    return `${missing.join(", ")} not found on PATH (Debian: apt-get install ${
      packages.join(" ")
    })`;
  });
}

async function onPath(program: string): Promise<boolean> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const info = await Deno.stat(join(dir, program)).catch(() => undefined);
    if (info?.isFile && (info.mode ?? 0o111) & 0o111) return true;
  }
  return false;
}

/** The tests run as root. */
export const ROOT = requirement(() =>
  Promise.resolve(Deno.uid() === 0 ? undefined : `not run as root (uid ${Deno.uid()})`)
);

/**
 * atd runs, so queued jobs run: as `tinybackup doctor` decides it on Linux,
 * by atd's pid file naming a live process (here: one called atd).
 */
export const AT_DAEMON = requirement(async () => {
  for (const file of ["/run/atd.pid", "/var/run/atd.pid"]) {
    const pid = (await Deno.readTextFile(file).catch(() => "")).trim();
    if (/^\d+$/.test(pid) && await isAtd(pid)) return undefined;
  }
  return "atd is not running (start it as root: 'atd', or 'systemctl start atd')";
});

/** Deno reads /proc only with every permission; sh reads it for us. */
async function isAtd(pid: string): Promise<boolean> {
  const { code } = await new Deno.Command("sh", {
    args: ["-c", 'read -r name < "/proc/$1/comm" && [ "$name" = atd ]', "sh", pid],
    stderr: "null",
  }).output();
  return code === 0;
}

/** Whether tests can run here, and a Deno.test that ignores them when they cannot. */
export interface Gate {
  /** True when something they need is missing: ignore them, or the part that needs it. */
  ignore: boolean;
  /** Registers a test that is ignored when something it needs is missing. */
  test(name: string, fn: () => Promise<void> | void): void;
}

/**
 * Checks what `tests` need. When all is here, the gate is open. Otherwise it
 * is shut (`ignore`), and one line says what is missing; under CI, a
 * failing test says it.
 * @param tests which tests need it, for the message: "cli/schedule_test.ts"
 */
export async function needs(tests: string, ...requirements: Requirement[]): Promise<Gate> {
  const gate = (ignore: boolean): Gate => ({
    ignore,
    test: (name, fn) => Deno.test({ name, ignore, fn }),
  });
  for (const required of requirements) {
    const reason = await required.unmet();
    if (reason === undefined) continue;
    if (Deno.env.get("CI")) {
      Deno.test(`requirement of ${tests}`, () => {
        throw new Error(`${reason}; under CI every test must run`);
      });
    } else {
      console.error(`SKIPPED ${tests}: ${reason}`);
    }
    return gate(true);
  }
  return gate(false);
}
