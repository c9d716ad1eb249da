/**
 * A SQLite database on another host (--ssh with --sqlite): the host's
 * sqlite3 writes a consistent snapshot with VACUUM INTO, as a local
 * database's is made (see sqlite_source.ts), to a private temporary folder
 * there (mode 0700, removed when the script ends, however it ends but by
 * SIGKILL), and the snapshot streams here to be compressed and hashed. The
 * database is opened read-only; nothing is written to it.
 */
import { UsageError } from "../../errors.ts";
import { CommandSource } from "../command_source.ts";
import { runProgram } from "../program_host.ts";
import { describeHost, type SshHost } from "../../ssh/ssh_host.ts";

/**
 * Checks the database ($1) and sqlite3: prints the database's path with
 * its folder as the kernel resolves it, then its mode (octal) and mtime
 * (seconds), from GNU stat or BSD stat. Exits 3 when there is no such
 * file, 4 when it is not a file, 5 when it cannot be read, 6 without
 * sqlite3, 7 when it is not a SQLite database.
 */
const PROBE_SCRIPT = `[ -e "$1" ] || exit 3
[ -f "$1" ] || exit 4
[ -r "$1" ] || exit 5
command -v sqlite3 >/dev/null 2>&1 || exit 6
[ "$(head -c 15 -- "$1")" = "SQLite format 3" ] || exit 7
folder=$(cd -- "$(dirname -- "$1")" && pwd -P) || exit 5
printf '%s/%s\\n' "\${folder%/}" "$(basename -- "$1")"
stat -L -c '%a %Y' -- "$1" 2>/dev/null || stat -L -f '%Lp %m' -- "$1"`;

/**
 * Snapshots the database ($1) into a private folder and prints the
 * snapshot. A writer holding it locked is waited for up to 30 s. The
 * host's ~/.sqliterc is not read, and nothing sqlite3 prints can mix with
 * the snapshot's bytes.
 */
const SNAPSHOT_SCRIPT = `umask 077
folder=$(mktemp -d) || exit 2
trap 'rm -rf -- "$folder"' EXIT
trap 'exit 1' HUP INT TERM
sqlite3 -init /dev/null -bail -readonly -cmd '.timeout 30000' "$1" "VACUUM INTO '$folder/snapshot.db'" >/dev/null || exit 1
cat -- "$folder/snapshot.db"`;

/**
 * Checks the database and sqlite3 on the host, and gives the source that
 * snapshots it there.
 * @throws {UsageError} when the host cannot be reached, the database is
 *   missing or unreadable or not one, or sqlite3 is missing there
 */
export async function openRemoteSqlite(host: SshHost, path: string): Promise<CommandSource> {
  const where = describeHost(host);
  const probe = await runProgram(host, ["/bin/sh", "-c", PROBE_SCRIPT, "sh", path]);
  const problem = [
    undefined,
    undefined,
    undefined,
    `file not found on ${where}: ${path}`,
    `not a file on ${where}: ${path}`,
    `cannot read ${path} on ${where}: permission denied`,
    `sqlite3 not found on ${where}: backing up a SQLite database there needs it`,
    `not a SQLite database: ${path} on ${where}`,
  ][probe.code];
  if (problem) {
    throw new UsageError(
      problem,
      probe.code === 6
        ? "install it there (Debian: apt-get install sqlite3; FreeBSD: pkg install sqlite3)"
        : probe.code === 7
        ? "to back it up byte for byte, use --command 'cat FILE'"
        : undefined,
    );
  }
  const [absolute, stat] = new TextDecoder().decode(probe.stdout).split("\n");
  const [modeText, mtimeText] = (stat ?? "").split(" ");
  const mode = parseInt(modeText, 8);
  const mtime = Number(mtimeText);
  if (probe.code !== 0 || !absolute.startsWith("/") || !(mode >= 0) || !(mtime >= 0)) {
    throw new UsageError(
      `cannot check the SQLite database ${path} on ${where}${
        probe.stderr ? `: ${probe.stderr}` : ""
      }`,
    );
  }
  return new CommandSource({
    argv: ["/bin/sh", "-c", SNAPSHOT_SCRIPT, "sh", absolute],
    label: `the SQLite snapshot of ${absolute} on ${where}`,
    okExit: [],
    host,
    info: {
      kind: "sqlite",
      path: absolute,
      mode,
      mtime: new Date(mtime * 1000).toISOString(),
      host: where,
    },
  });
}
