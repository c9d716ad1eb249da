/**
 * Every bad input named for the core and for scheduling, in one table: exit
 * 2 (1 where the input is fine but the machine cannot do it), nothing on
 * stdout, one error line (plus a hint where a fix is known), nothing written
 * or deleted anywhere in the test's folder, and nothing queued with at(1).
 */
import assert from "node:assert/strict";
import { atq } from "../_at_queue.ts";
import { needs, programs } from "../_requires.ts";
import {
  IS_ROOT,
  NOBODY,
  type RunOptions,
  snapshotTree,
  tempDir,
  textBytes,
  tinybackup,
} from "../cli/_cli.ts";

/** The at queue scheduling cases would use; it must stay empty. */
const QUEUE = "b";
const withAt = await needs(
  "faults/bad_input_test.ts: the scheduling cases",
  programs("at", "atq", "atrm"),
);
// Root runs the unprivileged cases as nobody through setpriv; anyone else is unprivileged already.
const unprivileged = await needs(
  "faults/bad_input_test.ts: the unprivileged cases",
  ...(IS_ROOT ? [programs("setpriv")] : []),
);

interface Case {
  name: string;
  /** Arguments; `@` stands for the test's folder. */
  args: string[];
  error: RegExp;
  /** Runs as an unprivileged user: as root, permission checks would pass. */
  unprivileged?: boolean;
  stdin?: string;
  /** 1 for input that is fine but cannot be acted on here; 2 otherwise. */
  code?: 1 | 2;
  /** Needs at(1) installed. */
  scheduling?: boolean;
  /** Replaces PATH, e.g. to hide at(1). */
  path?: string;
}

/** A name over the 255 bytes file systems take. */
const LONG = "n".repeat(300);

const CASES: Case[] = [
  { name: "no arguments", args: [], error: /nothing to do/ },
  {
    name: "a --dest inside /proc, where the kernel takes no new folders",
    args: ["--file", "@/notes.db", "--dest", "/proc/tinybackup-test-dest"],
    error: /cannot make folders in \/proc\/tinybackup-test-dest/,
  },
  {
    name: "missing file",
    args: ["--file", "@/nope", "--dest", "@/dest"],
    error: /file not found: .*nope/,
  },
  {
    name: "a folder as --file",
    args: ["--file", "@/folder", "--dest", "@/dest"],
    error: /is a folder/,
  },
  {
    name: "a device as --file",
    args: ["--file", "/dev/null", "--dest", "@/dest"],
    error: /not a regular file/,
  },
  {
    name: "unreadable file",
    args: ["--file", "@/secret", "--dest", "@/open/dest"],
    error: /cannot read file: .*permission denied/,
    unprivileged: true,
  },
  {
    name: "--dest that is a file",
    args: ["--file", "@/notes.db", "--dest", "@/notes.db"],
    error: /not a folder/,
  },
  {
    name: "destination not writable",
    args: ["--file", "@/open/readable", "--dest", "@/locked"],
    error: /destination is not writable/,
    unprivileged: true,
  },
  {
    name: "destination inside an unwritable folder",
    args: ["--file", "@/open/readable", "--dest", "@/locked/sub"],
    error: /destination is not writable/,
    unprivileged: true,
  },
  {
    name: "negative --keep",
    args: ["--file", "@/notes.db", "--dest", "@/dest", "--keep", "-1"],
    error: /--keep/,
  },
  {
    name: "--keep not a number",
    args: ["--file", "@/notes.db", "--dest", "@/dest", "--keep", "many"],
    error: /--keep must be a whole number/,
  },
  {
    name: "--keep with a fraction",
    args: ["--file", "@/notes.db", "--dest", "@/dest", "--keep", "1.5"],
    error: /--keep must be a whole number/,
  },
  {
    name: "unknown --compress",
    args: ["--file", "@/notes.db", "--dest", "@/dest", "--compress", "bzip2"],
    error: /unknown compression 'bzip2'/,
  },
  {
    name: "unknown flag",
    args: ["--file", "@/notes.db", "--dest", "@/dest", "--frobnicate"],
    error: /unknown option '--frobnicate'/,
  },
  {
    name: "unknown command",
    args: ["backpu", "--dest", "@/dest"],
    error: /unknown command 'backpu'/,
  },
  {
    name: "--stdin without --name",
    args: ["--stdin", "--dest", "@/dest"],
    error: /--stdin needs --name/,
    stdin: "x",
  },
  {
    name: "both --file and --stdin",
    args: ["--file", "@/notes.db", "--stdin", "--name", "x", "--dest", "@/dest"],
    error: /cannot be used together/,
    stdin: "x",
  },
  {
    name: "--name with a slash",
    args: ["--file", "@/notes.db", "--dest", "@/dest", "--name", "a/b"],
    error: /invalid series name 'a\/b'/,
  },
  {
    name: "--name starting with a dot",
    args: ["--file", "@/notes.db", "--dest", "@/dest", "--name", ".hidden"],
    error: /invalid series name/,
  },
  { name: "missing --dest", args: ["--file", "@/notes.db"], error: /--dest is required/ },
  {
    name: "--file value starting with a dash",
    args: ["--file", "-x", "--dest", "@/dest"],
    error: /option '--file' needs a value/,
  },
  {
    name: "--dest below a file",
    args: ["--file", "@/notes.db", "--dest", "@/notes.db/sub"],
    error: /destination not found/,
  },
  {
    name: "--file below a file",
    args: ["--file", "@/notes.db/x", "--dest", "@/dest"],
    error: /file not found/,
  },
  {
    name: "list of a destination below a file",
    args: ["list", "--dest", "@/notes.db/sub"],
    error: /destination not found/,
  },
  {
    name: "--dest that is a symlink loop",
    args: ["--file", "@/notes.db", "--dest", "@/loop"],
    error: /loop of symbolic links/,
  },
  {
    name: "a destination whose .tinybackup is a file",
    args: ["--file", "@/notes.db", "--dest", "@/squatted"],
    error: /squatted\/\.tinybackup is not a folder|destination is not a folder/,
  },
  {
    name: "a destination that became read-only after its first backup",
    args: ["--file", "@/open/readable", "--dest", "@/open/frozen"],
    error: /destination is not writable/,
    unprivileged: true,
  },
  {
    name: "a destination below a folder that cannot be entered",
    args: ["--file", "@/open/readable", "--dest", "@/closed/inner"],
    error: /cannot reach destination: .*permission denied/,
    unprivileged: true,
  },
  {
    name: "a --file whose name holds U+FFFD, which is how Deno shows bytes that are not UTF-8",
    args: ["--file", "@/x\uFFFD.db", "--dest", "@/dest"],
    error: /cannot use .*x\uFFFD\.db: the path is not valid UTF-8/,
  },
  {
    name: "a --file name over 255 bytes",
    args: ["--file", `@/${LONG}`, "--dest", "@/dest", "--name", "x"],
    error: /name too long: .*: a name in it is 300 bytes/,
  },
  {
    name: "a --dest name over 255 bytes",
    args: ["--file", "@/notes.db", "--dest", `@/${LONG}`],
    error: /name too long: .*: a name in it is 300 bytes/,
  },
  {
    name: "a --dest inside a name over 255 bytes",
    args: ["--file", "@/notes.db", "--dest", `@/folder/${LONG}/sub`],
    error: /name too long: .*: a name in it is 300 bytes/,
  },
  {
    name: "a --dest longer than the system takes a path",
    args: ["--file", "@/notes.db", "--dest", `@/${`${"d".repeat(200)}/`.repeat(21)}`],
    error: /path too long: .*: this system takes paths of up to \d+ bytes/,
  },
  {
    name: "a --dest too long for the files a backup keeps in it",
    args: ["--file", "@/notes.db", "--dest", `@/${`${"d".repeat(200)}/`.repeat(19)}`],
    error: /destination path too long: .*: the files tinybackup keeps in it would pass/,
  },
  {
    name: "list --file with a name over 255 bytes",
    args: ["list", "--dest", "@/folder", "--file", `@/${LONG}`],
    error: /name too long: .*: a name in it is 300 bytes/,
  },
  {
    name: "restore of a name over 255 bytes",
    args: ["restore", `@/${LONG}.20260101T000000Z.gz`, "--to", "@/out"],
    error: /name too long: .*: a name in it is 320 bytes/,
  },
  {
    name: "unschedule --file with a name over 255 bytes",
    args: ["unschedule", "--file", `@/${LONG}`, "--dest", "@/dest"],
    error: /name too long: .*: a name in it is 300 bytes/,
  },
  {
    name: "restore of a file that is not a backup",
    args: ["restore", "@/notes.db", "--to", "@/out"],
    error: /not a tinybackup backup/,
  },
  {
    name: "restore of a backup-like name without metadata",
    args: ["restore", "@/fake.20260101T000000Z.gz", "--to", "@/out"],
    error: /not a tinybackup backup/,
  },
  { name: "restore of a missing path", args: ["restore", "@/gone.gz"], error: /backup not found/ },
  { name: "restore of a folder", args: ["restore", "@/folder"], error: /not a tinybackup backup/ },
  {
    name: "list of a missing destination",
    args: ["list", "--dest", "@/nowhere"],
    error: /destination not found/,
  },
  {
    name: "verify of a missing destination",
    args: ["verify", "--dest", "@/nowhere"],
    error: /destination not found/,
  },
  {
    name: "prune without --keep",
    args: ["prune", "--dest", "@/dest", "--name", "x"],
    error: /prune needs --keep/,
  },
  {
    name: "prune without a series",
    args: ["prune", "--dest", "@/dest", "--keep", "1"],
    error: /prune needs --file or --name/,
  },
  ...([
    ["--every unparseable", ["--every", "soon"], /invalid --every 'soon'/],
    ["--every of zero", ["--every", "0m"], /invalid --every '0m'/],
    ["--every under a minute", ["--every", "30s"], /invalid --every '30s'/],
    ["--every over the cap", ["--every", "600w"], /invalid --every '600w'/],
    ["--at not a time", ["--every", "1d", "--at", "25:00"], /invalid --at '25:00'/],
    ["--at with letters", ["--every", "1d", "--at", "noon"], /invalid --at 'noon'/],
    ["--at alone", ["--at", "02:00"], /--at (needs|goes with) --every/],
    [
      "--every with --time",
      ["--every", "1d", "--time", "02:00"],
      /--every and --time cannot be used together/,
    ],
    [
      "a --time at(1) rejects, in at's words",
      ["--time", "garbage o'clock"],
      /at\(1\) rejected the time 'garbage o'clock'/,
    ],
    ["a --time due right away", ["--time", "now"], /due right away/],
    ["a --time that looks like an option", ["--time=-f /etc/passwd now"], /starting with '-'/],
    ["--runs of 0", ["--every", "1h", "--runs", "0"], /--runs must be a whole number, 1 or more/],
    ["--runs with a fraction", ["--every", "1h", "--runs", "1.5"], /--runs must be a whole/],
  ] as const).map(([name, extra, error]): Case => ({
    name: `scheduling: ${name}`,
    args: ["--file", "@/notes.db", "--dest", "@/dest", ...extra],
    error,
    scheduling: true,
  })),
  {
    name: "scheduling: --stdin",
    args: ["--stdin", "--name", "x", "--dest", "@/dest", "--every", "1h"],
    error: /--stdin cannot be scheduled/,
    stdin: "data",
    scheduling: true,
  },
  {
    name: "scheduling: unschedule of an unknown id",
    args: ["unschedule", "99999"],
    error: /no scheduled job with id 99999/,
    code: 1,
    scheduling: true,
  },
  {
    name: "scheduling: no at(1) installed",
    args: ["--file", "@/notes.db", "--dest", "@/dest", "--every", "1h"],
    error: /atq is not installed/,
    code: 1,
    path: "/nonexistent",
  },
];

/** The folder every case runs against: a file, a folder, an unreadable file, an unwritable folder. */
async function setUp(root: string): Promise<void> {
  await Deno.writeFile(`${root}/notes.db`, textBytes(10));
  await Deno.writeFile(`${root}/x\uFFFD.db`, textBytes(10));
  await Deno.mkdir(`${root}/folder`);
  await Deno.writeFile(`${root}/secret`, textBytes(1));
  await Deno.chmod(`${root}/secret`, 0o000);
  await Deno.mkdir(`${root}/open`, { mode: 0o1777 });
  await Deno.chmod(`${root}/open`, 0o1777);
  await Deno.writeFile(`${root}/open/readable`, textBytes(1));
  await Deno.chmod(`${root}/open/readable`, 0o644);
  await Deno.mkdir(`${root}/locked`);
  await Deno.chmod(`${root}/locked`, 0o555);
  await Deno.writeFile(`${root}/fake.20260101T000000Z.gz`, textBytes(1));
  await Deno.symlink(`${root}/loop`, `${root}/loop`);
  await Deno.mkdir(`${root}/squatted`);
  await Deno.writeFile(`${root}/squatted/.tinybackup`, textBytes(1));
  await Deno.mkdir(`${root}/closed/inner`, { recursive: true });
  await Deno.chmod(`${root}/closed`, 0o700);
  // A destination with one backup, then made read-only.
  await Deno.mkdir(`${root}/open/frozen/.tinybackup/tmp`, { recursive: true });
  await Deno.writeFile(`${root}/open/frozen/readable.20260101T000000Z.gz`, textBytes(1));
  for (const folder of ["open/frozen/.tinybackup/tmp", "open/frozen/.tinybackup", "open/frozen"]) {
    await Deno.chmod(`${root}/${folder}`, 0o555);
  }
  await Deno.chmod(root, 0o755);
}

for (const c of CASES) {
  const code = c.code ?? 2;
  Deno.test({
    name: `bad input: ${c.name} exits ${code} with a clear error and changes nothing`,
    ignore: (c.scheduling && withAt.ignore) || (c.unprivileged && unprivileged.ignore),
    fn: () => check(c, code),
  });
}

async function check(c: Case, code: number): Promise<void> {
  await using dir = await tempDir();
  await setUp(dir.path);
  const options: RunOptions = {
    stdin: c.stdin,
    cwd: dir.path,
    // Job state inside the fingerprinted folder: writing any is a failure too.
    env: { TINYBACKUP_AT_QUEUE: QUEUE, XDG_STATE_HOME: `${dir.path}/state` },
  };
  if (c.path) options.env!.PATH = c.path;
  // Another user's Deno needs a cache it can write, outside the folder we fingerprint.
  await using cache = await tempDir();
  if (c.unprivileged && IS_ROOT) {
    await Deno.chmod(cache.path, 0o777);
    options.asUser = NOBODY;
    options.env!.DENO_DIR = cache.path;
  }
  const before = await snapshotTree(dir.path);
  const result = await tinybackup(c.args.map((a) => a.replaceAll("@", dir.path)), options);
  assert.equal(result.code, code, result.stderr);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trimEnd().split("\n");
  assert.match(lines[0], /^tinybackup: error: /);
  assert.match(lines[0], c.error);
  if (lines.length > 1) {
    assert.equal(lines.length, 2, result.stderr);
    assert.match(lines[1], /^tinybackup: hint: /);
  }
  assert.deepEqual(await snapshotTree(dir.path), before);
  if (!withAt.ignore) assert.equal(await atq(QUEUE), "", "nothing is queued");
}
