import { keepLast } from "../../lib/backup/retention.ts";
import assert from "node:assert/strict";
import {
  type BackupArgs,
  DEFAULT_KEEP,
  parseBackupArgs,
  parseCompression,
  parseKeep,
  parseListArgs,
  parsePruneArgs,
  parseRestoreArgs,
  parseVerifyArgs,
} from "../../lib/cli/args.ts";
import { COMMANDS, splitCommand } from "../../lib/cli/commands.ts";
import { UsageError } from "../../lib/errors.ts";

/**
 * Asserts that `run` throws a UsageError whose message matches `message` and,
 * when given, whose hint matches `hint`.
 */
function assertUsageError(run: () => unknown, message: RegExp, hint?: RegExp) {
  assert.throws(run, (error) => {
    assert.ok(error instanceof UsageError, `${error} is a UsageError`);
    assert.match(error.message, message);
    if (hint) assert.match(error.hint ?? "", hint);
    return true;
  });
}

/** A minimal valid backup command line, followed by `more`. */
const backupOf = (
  ...more: string[]
) => ["--file", "/home/me/notes.db", "--dest", "/backups", ...more];

// splitCommand

Deno.test("splitCommand recognises every command name and passes on the rest", () => {
  for (const command of COMMANDS) {
    assert.deepEqual(splitCommand([command, "--dest", "d"]), { command, args: ["--dest", "d"] });
  }
});

Deno.test("splitCommand treats arguments starting with an option as a backup", () => {
  assert.deepEqual(splitCommand(["--file", "x", "--dest", "d"]), {
    command: "backup",
    args: ["--file", "x", "--dest", "d"],
  });
  assert.deepEqual(splitCommand(["-h"]), { command: "backup", args: ["-h"] });
});

Deno.test("splitCommand only looks for a command name in first position", () => {
  assert.deepEqual(splitCommand(["--name", "list"]), {
    command: "backup",
    args: ["--name", "list"],
  });
});

Deno.test("splitCommand with no arguments says there is nothing to do and points to --help", () => {
  assertUsageError(() => splitCommand([]), /nothing to do/, /--help/);
});

Deno.test("splitCommand rejects an unknown command and lists the known ones", () => {
  assertUsageError(
    () => splitCommand(["bakup", "--file", "x"]),
    /unknown command 'bakup'/,
    /backup, run, schedule, config, list, restore, verify, prune/,
  );
});

// parseBackupArgs: what it accepts

Deno.test("parseBackupArgs defaults: keep 14, gzip, series named after the file, every flag off", () => {
  const expected: BackupArgs = {
    help: false,
    source: { kind: "file", path: "/home/me/notes.db" },
    name: "notes.db",
    dest: "/backups",
    retention: keepLast(14),
    compression: "gzip",
    force: false,
    dryRun: false,
    json: false,
    quiet: false,
    verbose: false,
    allowChanging: false,
    allowEmpty: false,
    lockWaitSeconds: 30,
    schedule: undefined,
  };
  assert.deepEqual(parseBackupArgs(backupOf()), expected);
  assert.equal(DEFAULT_KEEP, 14);
});

Deno.test("parseBackupArgs names the series after the last part of --file", () => {
  const nameOf = (file: string) => parseBackupArgs(["--file", file, "--dest", "d"]).name;
  assert.equal(nameOf("notes.db"), "notes.db");
  assert.equal(nameOf("./data/app.sqlite"), "app.sqlite");
  assert.equal(nameOf("/srv/dump.sql/"), "dump.sql");
  assert.equal(nameOf("my notes.db"), "my notes.db");
});

Deno.test("parseBackupArgs lets --name override the name taken from --file", () => {
  assert.equal(parseBackupArgs(backupOf("--name", "work-notes")).name, "work-notes");
});

Deno.test("parseBackupArgs lets --name rescue a file whose name starts with '.'", () => {
  const args = parseBackupArgs(["--file", "/home/me/.bashrc", "--dest", "d", "--name", "bashrc"]);
  assert.deepEqual(args.source, { kind: "file", path: "/home/me/.bashrc" });
  assert.equal(args.name, "bashrc");
});

Deno.test("parseBackupArgs accepts --stdin with --name and no --file", () => {
  const args = parseBackupArgs(["--stdin", "--name", "app.sql", "--dest", "d"]);
  assert.deepEqual(args.source, { kind: "stdin" });
  assert.equal(args.name, "app.sql");
});

Deno.test("parseBackupArgs reads every option", () => {
  const args = parseBackupArgs(backupOf(
    "--keep",
    "3",
    "--compress",
    "zstd",
    "--force",
    "--dry-run",
    "--json",
    "-q",
    "--allow-changing",
  ));
  assert.deepEqual(args.retention, keepLast(3));
  assert.equal(args.compression, "zstd");
  assert.equal(args.force, true);
  assert.equal(args.dryRun, true);
  assert.equal(args.json, true);
  assert.equal(args.quiet, true);
  assert.equal(args.verbose, false);
  assert.equal(args.allowChanging, true);
  assert.equal(parseBackupArgs(backupOf("--verbose")).verbose, true);
  assert.equal(parseBackupArgs(backupOf("-v")).verbose, true);
  assert.equal(parseBackupArgs(backupOf("--quiet")).quiet, true);
});

Deno.test("parseBackupArgs accepts --keep 0, which keeps every backup", () => {
  assert.deepEqual(parseBackupArgs(backupOf("--keep", "0")).retention, keepLast(0));
  assert.deepEqual(parseBackupArgs(backupOf("--keep=0")).retention, keepLast(0));
});

Deno.test("parseBackupArgs accepts every compression, including none", () => {
  for (const compression of ["gzip", "zstd", "none"]) {
    assert.equal(parseBackupArgs(backupOf("--compress", compression)).compression, compression);
  }
});

Deno.test("parseBackupArgs takes a value starting with '-' when written --option=VALUE", () => {
  const args = parseBackupArgs(["--file=-x", "--dest", "d"]);
  assert.deepEqual(args.source, { kind: "file", path: "-x" });
  assert.equal(args.name, "-x");
});

Deno.test("parseBackupArgs accepts hostile but valid names as given", () => {
  for (const name of ["$(rm -rf ~)", "`id`", 'it\'s "quoted"', "a\nb", "日本語", "--keep"]) {
    assert.equal(parseBackupArgs(backupOf(`--name=${name}`)).name, name, JSON.stringify(name));
  }
});

Deno.test("parseBackupArgs with --help needs nothing else", () => {
  const args = parseBackupArgs(["--help"]);
  assert.equal(args.help, true);
  assert.equal(parseBackupArgs(["-h"]).help, true);
});

// parseBackupArgs: what it refuses

Deno.test("parseBackupArgs rejects a negative --keep", () => {
  assertUsageError(
    () => parseBackupArgs(backupOf("--keep=-1")),
    /--keep must be a whole number, 0 or more \(got '-1'\)/,
    /0 keeps every backup/,
  );
});

Deno.test("parseBackupArgs reads `--keep -1` as --keep missing its value and suggests --keep=VALUE", () => {
  assertUsageError(
    () => parseBackupArgs(backupOf("--keep", "-1")),
    /option '--keep' needs a value/,
    /--keep=VALUE/,
  );
});

Deno.test("parseBackupArgs rejects a --keep that is not a whole number, quoting it", () => {
  for (const keep of ["1.5", "abc", "", " 3", "3 ", "1e3", "0x10", "+3", "99999999999999999999"]) {
    assertUsageError(
      () => parseBackupArgs(backupOf("--keep", keep)),
      new RegExp(`--keep must be a whole number.*\\(got '${RegExp.escape(keep)}'\\)`),
    );
  }
});

Deno.test("parseBackupArgs rejects --keep without a value", () => {
  assertUsageError(() => parseBackupArgs(backupOf("--keep")), /option '--keep' needs a value/);
});

Deno.test("parseBackupArgs rejects an unknown --compress and lists the choices", () => {
  for (const compress of ["bzip2", "GZIP", "gz", ""]) {
    assertUsageError(
      () => parseBackupArgs(backupOf("--compress", compress)),
      new RegExp(`unknown compression '${compress}'`),
      /gzip, zstd, none/,
    );
  }
});

Deno.test("parseBackupArgs rejects an unknown option, naming it", () => {
  assertUsageError(
    () => parseBackupArgs(backupOf("--bogus")),
    /unknown option '--bogus'/,
    /--help/,
  );
  assertUsageError(() => parseBackupArgs(backupOf("-x")), /unknown option '-x'/);
});

Deno.test("parseBackupArgs rejects a value given to a flag", () => {
  assertUsageError(
    () => parseBackupArgs(backupOf("--force=yes")),
    /option '--force' takes no value/,
  );
});

Deno.test("parseBackupArgs rejects a stray argument", () => {
  assertUsageError(() => parseBackupArgs(backupOf("extra")), /unexpected argument 'extra'/);
});

Deno.test("parseBackupArgs rejects --stdin without --name and shows how to name it", () => {
  assertUsageError(
    () => parseBackupArgs(["--stdin", "--dest", "d"]),
    /--stdin needs --name/,
    /--name/,
  );
});

Deno.test("parseBackupArgs rejects --file together with --stdin", () => {
  assertUsageError(
    () => parseBackupArgs(["--file", "x", "--stdin", "--name", "n", "--dest", "d"]),
    /--file and --stdin cannot be used together/,
  );
});

Deno.test("parseBackupArgs rejects neither --file nor --stdin, suggesting both", () => {
  assertUsageError(
    () => parseBackupArgs(["--dest", "d"]),
    /nothing to back up/,
    /--file FILE.*--stdin --name NAME/,
  );
});

Deno.test("parseBackupArgs takes --command with --name, and --ok-exit codes sorted once each", () => {
  const args = parseBackupArgs([
    "--command",
    "pg_dump -Fc app",
    "--name",
    "app.dump",
    "--dest",
    "d",
  ]);
  assert.deepEqual(args.source, { kind: "command", command: "pg_dump -Fc app", okExit: [] });
  assert.equal(args.name, "app.dump");
  const ok = parseBackupArgs([
    ...["--command", "rsync x", "--name", "x", "--dest", "d", "--ok-exit", "24,1,24"],
  ]);
  assert.deepEqual(ok.source, { kind: "command", command: "rsync x", okExit: [1, 24] });
});

Deno.test("parseBackupArgs takes --sqlite, naming the series after the database file", () => {
  const args = parseBackupArgs(["--sqlite", "/var/lib/app/app.db", "--dest", "d"]);
  assert.deepEqual(args.source, { kind: "sqlite", path: "/var/lib/app/app.db" });
  assert.equal(args.name, "app.db");
});

Deno.test("parseBackupArgs rejects a bad --command, --ok-exit or --sqlite", () => {
  const cases: [string[], RegExp][] = [
    [["--command", "x", "--dest", "d"], /--command needs --name/],
    [["--command", "  ", "--name", "n", "--dest", "d"], /--command is empty/],
    [["--command", "x", "--name", "n", "--dest", "d", "--ok-exit", "0"], /--ok-exit must be/],
    [["--command", "x", "--name", "n", "--dest", "d", "--ok-exit", "256"], /--ok-exit must be/],
    [["--command", "x", "--name", "n", "--dest", "d", "--ok-exit", "1,"], /--ok-exit must be/],
    [
      ["--command", "x", "--name", "n", "--dest", "d", "--ok-exit", "-1"],
      /--ok-exit must be|needs a value/,
    ],
    [["--file", "f", "--dest", "d", "--ok-exit", "1"], /--ok-exit goes with --command/],
    [["--sqlite", "", "--dest", "d"], /--sqlite is empty/],
    [
      ["--file", "f", "--sqlite", "s", "--dest", "d"],
      /--file and --sqlite cannot be used together/,
    ],
    [
      ["--sqlite", "s", "--command", "c", "--name", "n", "--dest", "d"],
      /--sqlite and --command cannot/,
    ],
    [["--command", "c", "--stdin", "--name", "n", "--dest", "d"], /--command and --stdin cannot/],
    [
      ["--command", "c", "--name", "n", "--dest", "d", "--every", "1d", "--stop-if-missing"],
      /--stop-if-missing needs a source that is a file/,
    ],
  ];
  for (const [argv, message] of cases) {
    assertUsageError(() => parseBackupArgs(argv), message);
  }
});

Deno.test("parseBackupArgs schedules a command, but never stdin", () => {
  const args = parseBackupArgs(["--command", "c", "--name", "n", "--dest", "d", "--every", "1d"]);
  assert.equal(args.schedule?.every?.minutes, 1440);
  assertUsageError(
    () => parseBackupArgs(["--stdin", "--name", "n", "--dest", "d", "--every", "1d"]),
    /--stdin cannot be scheduled/,
    /--command 'CMD'/,
  );
});

Deno.test("parseBackupArgs rejects an empty --file", () => {
  assertUsageError(() => parseBackupArgs(["--file", "", "--dest", "d"]), /--file is empty/);
});

Deno.test("parseBackupArgs rejects a --name containing '/'", () => {
  assertUsageError(
    () => parseBackupArgs(backupOf("--name", "a/b")),
    /invalid series name 'a\/b': the name contains '\/'/,
    /--name/,
  );
});

Deno.test("parseBackupArgs rejects a --name containing NUL", () => {
  assertUsageError(() => parseBackupArgs(backupOf("--name", "a\0b")), /invalid series name.*NUL/);
});

Deno.test("parseBackupArgs rejects a --name starting with '.'", () => {
  assertUsageError(
    () => parseBackupArgs(backupOf("--name", ".hidden")),
    /invalid series name '\.hidden': the name starts with '\.'/,
  );
});

Deno.test("parseBackupArgs rejects an empty --name", () => {
  assertUsageError(() => parseBackupArgs(backupOf("--name", "")), /invalid series name.*empty/);
});

Deno.test("parseBackupArgs names a dotfile's series without its leading dots", () => {
  assert.equal(parseBackupArgs(["--file", "/home/me/.bashrc", "--dest", "d"]).name, "bashrc");
  assert.equal(parseBackupArgs(["--file", "..hidden.db", "--dest", "d"]).name, "hidden.db");
});

Deno.test("parseBackupArgs rejects a file whose name is only dots and suggests --name", () => {
  assertUsageError(
    () => parseBackupArgs(["--file", "/home/me/...", "--dest", "d"]),
    /invalid series name '': the name is empty/,
    /choose one with --name/,
  );
});

Deno.test("parseBackupArgs rejects --quiet with --verbose", () => {
  assertUsageError(
    () => parseBackupArgs(backupOf("--quiet", "--verbose")),
    /--quiet and --verbose cannot be used together/,
  );
  assertUsageError(() => parseBackupArgs(backupOf("-qv")), /--quiet and --verbose/);
});

Deno.test("parseBackupArgs rejects a missing --dest and says what it is for", () => {
  assertUsageError(
    () => parseBackupArgs(["--file", "x"]),
    /--dest is required/,
    /--dest FOLDER/,
  );
});

Deno.test("parseBackupArgs rejects an empty --dest", () => {
  assertUsageError(() => parseBackupArgs(["--file", "x", "--dest", ""]), /--dest is empty/);
});

Deno.test("parseBackupArgs reads `--file -x` as --file missing its value and suggests --file=VALUE", () => {
  assertUsageError(
    () => parseBackupArgs(["--file", "-x", "--dest", "d"]),
    /option '--file' needs a value/,
    /--file=VALUE/,
  );
});

// parseListArgs and parseVerifyArgs

const SERIES_PARSERS = [
  ["parseListArgs", parseListArgs],
  ["parseVerifyArgs", parseVerifyArgs],
] as const;

Deno.test("parseListArgs and parseVerifyArgs mean every series when given no --file or --name", () => {
  for (const [what, parse] of SERIES_PARSERS) {
    assert.deepEqual(parse(["--dest", "/backups"]), {
      help: false,
      dest: "/backups",
      file: undefined,
      name: undefined,
      json: false,
    }, what);
  }
});

Deno.test("parseListArgs and parseVerifyArgs select by --file, by --name, or both", () => {
  for (const [what, parse] of SERIES_PARSERS) {
    assert.deepEqual(parse(["--dest", "d", "--file", "/home/me/notes.db", "--json"]), {
      help: false,
      dest: "d",
      file: "/home/me/notes.db",
      name: undefined,
      json: true,
    }, what);
    const named = parse(["--dest", "d", "--file", "/home/me/notes.db", "--name", "other"]);
    assert.equal(named.name, "other", what);
    assert.equal(parse(["--dest", "d", "--name", "app.sql"]).name, "app.sql", what);
  }
});

Deno.test("parseListArgs and parseVerifyArgs with --help need nothing else", () => {
  for (const [what, parse] of SERIES_PARSERS) {
    assert.equal(parse(["--help"]).help, true, what);
  }
});

Deno.test("parseListArgs and parseVerifyArgs refuse what they do not understand", () => {
  for (const [, parse] of SERIES_PARSERS) {
    assertUsageError(() => parse([]), /--dest is required/);
    assertUsageError(() => parse(["--dest", ""]), /--dest is empty/);
    assertUsageError(() => parse(["--dest", "d", "--file", ""]), /--file is empty/);
    assertUsageError(() => parse(["--dest", "d", "--name", ".x"]), /invalid series name/);
    assertUsageError(() => parse(["--dest", "d", "--keep", "3"]), /unknown option '--keep'/);
    assertUsageError(() => parse(["--dest", "d", "notes.db"]), /unexpected argument 'notes.db'/);
  }
});

// parsePruneArgs

Deno.test("parsePruneArgs reads the series, --keep and --dry-run", () => {
  assert.deepEqual(parsePruneArgs(["--dest", "d", "--file", "/x/notes.db", "--keep", "3"]), {
    help: false,
    dest: "d",
    file: "/x/notes.db",
    name: undefined,
    json: false,
    retention: keepLast(3),
    dryRun: false,
  });
  const args = parsePruneArgs(["--dest", "d", "--name", "app.sql", "--keep=5", "--dry-run"]);
  assert.equal(args.name, "app.sql");
  assert.deepEqual(args.retention, keepLast(5));
  assert.equal(args.dryRun, true);
});

Deno.test("parsePruneArgs needs --keep or a calendar rule", () => {
  assertUsageError(
    () => parsePruneArgs(["--dest", "d", "--name", "n"]),
    /prune needs --keep N or a calendar rule/,
    /--keep-daily 7 --keep-weekly 4/,
  );
});

Deno.test("calendar retention: each rule, --keep-within's span, and --keep joining them", () => {
  const prune = (...more: string[]) =>
    parsePruneArgs(["--dest", "d", "--name", "n", ...more]).retention;
  assert.deepEqual(prune("--keep-daily", "7", "--keep-weekly=4"), {
    ...keepLast(0),
    daily: 7,
    weekly: 4,
  });
  assert.deepEqual(
    prune(
      "--keep=2",
      "--keep-hourly=24",
      "--keep-monthly=12",
      "--keep-yearly=3",
      "--keep-within=1y6m2w3d12h",
    ),
    {
      last: 2,
      hourly: 24,
      daily: 0,
      weekly: 0,
      monthly: 12,
      yearly: 3,
      within: { years: 1, months: 6, days: 17, hours: 12 },
    },
  );
  // A backup gets the same rules, and without any, the default last 14.
  assert.deepEqual(parseBackupArgs(backupOf("--keep-daily", "7")).retention, {
    ...keepLast(0),
    daily: 7,
  });
  assert.deepEqual(parseBackupArgs(backupOf()).retention, keepLast(14));
});

Deno.test("calendar retention: bad counts and spans, and --keep 0 with a rule, are refused", () => {
  const prune = (...more: string[]) => () =>
    parsePruneArgs(["--dest", "d", "--name", "n", ...more]);
  for (const count of ["0", "-1", "1.5", "seven", ""]) {
    assertUsageError(
      prune(`--keep-daily=${count}`),
      new RegExp(`--keep-daily must be a whole number, 1 or more \\(got '${count}'\\)`),
    );
  }
  for (const span of ["1", "d", "0d", "1x", "1 d", "-1d", "1.5d", ""]) {
    assertUsageError(
      prune(`--keep-within=${span}`),
      new RegExp(`invalid --keep-within '${RegExp.escape(span)}'`),
      /m is months here/,
    );
  }
  assertUsageError(
    prune("--keep", "0", "--keep-weekly", "4"),
    /--keep 0 keeps every backup, so it does not go with the other --keep-\* options/,
  );
});

Deno.test("parsePruneArgs needs a series, since it works on one at a time", () => {
  assertUsageError(
    () => parsePruneArgs(["--dest", "d", "--keep", "3"]),
    /prune needs --file or --name/,
    /one file's backups at a time/,
  );
});

Deno.test("parsePruneArgs rejects a bad --keep", () => {
  assertUsageError(
    () => parsePruneArgs(["--dest", "d", "--name", "n", "--keep=-1"]),
    /--keep must be a whole number/,
  );
  assertUsageError(
    () => parsePruneArgs(["--dest", "d", "--name", "n", "--keep", "all"]),
    /--keep must be a whole number.*'all'/,
  );
});

Deno.test("parsePruneArgs with --help needs nothing else", () => {
  assert.equal(parsePruneArgs(["--help"]).help, true);
});

// parseRestoreArgs

Deno.test("parseRestoreArgs takes one backup file and restores to the current folder by default", () => {
  assert.deepEqual(parseRestoreArgs(["/backups/notes.db.20261122T185413Z.gz"]), {
    help: false,
    backup: "/backups/notes.db.20261122T185413Z.gz",
    to: undefined,
    force: false,
  });
});

Deno.test("parseRestoreArgs accepts `--to -` for stdout", () => {
  assert.equal(parseRestoreArgs(["--to", "-", "b.gz"]).to, "-");
  assert.equal(parseRestoreArgs(["b.gz", "--to", "-"]).to, "-");
});

Deno.test("parseRestoreArgs reads --to and --force", () => {
  assert.deepEqual(parseRestoreArgs(["--to", "/tmp/out", "--force", "b.gz"]), {
    help: false,
    backup: "b.gz",
    to: "/tmp/out",
    force: true,
  });
});

Deno.test("parseRestoreArgs takes a backup name starting with '-' after --", () => {
  assert.equal(
    parseRestoreArgs(["--", "-rf.20261122T185413Z.gz"]).backup,
    "-rf.20261122T185413Z.gz",
  );
});

Deno.test("parseRestoreArgs needs the backup file", () => {
  assertUsageError(() => parseRestoreArgs([]), /restore needs the backup file/);
  assertUsageError(() => parseRestoreArgs(["--to", "out"]), /restore needs the backup file/);
});

Deno.test("parseRestoreArgs takes only one backup file", () => {
  assertUsageError(
    () => parseRestoreArgs(["a.gz", "b.gz"]),
    /restore takes one backup file/,
    /one backup per run/,
  );
});

Deno.test("parseRestoreArgs rejects an empty or missing --to", () => {
  assertUsageError(() => parseRestoreArgs(["--to=", "b.gz"]), /--to is empty/);
  assertUsageError(() => parseRestoreArgs(["b.gz", "--to"]), /option '--to' needs a value/);
});

Deno.test("parseRestoreArgs rejects options that belong to other commands", () => {
  assertUsageError(() => parseRestoreArgs(["--dest", "d", "b.gz"]), /unknown option '--dest'/);
});

Deno.test("parseRestoreArgs with --help needs nothing else", () => {
  assert.equal(parseRestoreArgs(["--help"]).help, true);
});

// parseKeep and parseCompression

Deno.test("parseKeep reads whole numbers, 0 or more", () => {
  assert.equal(parseKeep("0"), 0);
  assert.equal(parseKeep("1"), 1);
  assert.equal(parseKeep("14"), 14);
  assert.equal(parseKeep("007"), 7);
  assert.equal(parseKeep("9007199254740991"), Number.MAX_SAFE_INTEGER);
});

Deno.test("parseKeep rejects anything else, quoting it and explaining 0", () => {
  for (const text of ["-1", "1.5", "abc", "", " 1", "1e2", "Infinity", "9007199254740992", "١"]) {
    assertUsageError(
      () => parseKeep(text),
      new RegExp(`got '${RegExp.escape(text)}'`),
      /0 keeps every backup/,
    );
  }
});

Deno.test("parseCompression accepts gzip, zstd and none", () => {
  assert.equal(parseCompression("gzip"), "gzip");
  assert.equal(parseCompression("zstd"), "zstd");
  assert.equal(parseCompression("none"), "none");
});

Deno.test("parseCompression rejects other names, case-sensitively, listing the choices", () => {
  for (const text of ["Gzip", "zst", "xz", "", " gzip"]) {
    assertUsageError(
      () => parseCompression(text),
      new RegExp(`unknown compression '${RegExp.escape(text)}'`),
      /choose one of: gzip, zstd, none/,
    );
  }
});

// Scheduling options of parseBackupArgs

Deno.test("parseBackupArgs reads --every, --at, --runs, --schedule-only and --stop-if-missing", () => {
  const args = parseBackupArgs(
    backupOf(
      "--every",
      "1d",
      "--at",
      "02:00",
      "--runs",
      "3",
      "--schedule-only",
      "--stop-if-missing",
    ),
  );
  assert.deepEqual(args.schedule, {
    every: { text: "1d", minutes: 1440 },
    at: "02:00",
    time: undefined,
    scheduleOnly: true,
    runs: 3,
    stopIfMissing: true,
  });
  assert.equal(parseBackupArgs(backupOf("--time", "now + 1 hour")).schedule?.time, "now + 1 hour");
  assert.equal(parseBackupArgs(backupOf()).schedule, undefined);
});

Deno.test("parseBackupArgs rejects bad scheduling options", () => {
  const cases: [string[], RegExp][] = [
    [["--every", "soon"], /invalid --every 'soon'/],
    [["--every", "0m"], /invalid --every/],
    [["--every", "15000000w"], /invalid --every '15000000w'.*520 weeks/],
    [["--every", "521w"], /invalid --every/],
    [["--every", "1d", "--at", "7:60"], /invalid --at '7:60'/],
    [["--every", "1d", "--time", "02:00"], /--every and --time cannot be used together/],
    [["--time", "02:00", "--at", "02:00"], /--at goes with --every/],
    [["--at", "02:00"], /--at needs --every or --time/],
    [["--runs", "2"], /--runs needs --every or --time/],
    [["--schedule-only"], /--schedule-only needs --every or --time/],
    [["--every", "1h", "--runs", "0"], /--runs must be a whole number, 1 or more/],
    [["--time", " "], /--time is empty/],
  ];
  for (const [extra, message] of cases) {
    assertUsageError(() => parseBackupArgs(backupOf(...extra)), message);
  }
  assertUsageError(
    () => parseBackupArgs(["--stdin", "--name", "x", "--dest", "d", "--every", "1h"]),
    /--stdin cannot be scheduled/,
  );
});

Deno.test("parseBackupArgs writes --at as HH:MM, so 2:00 and 02:00 are one time", () => {
  assert.equal(parseBackupArgs(backupOf("--every", "1d", "--at", "2:00")).schedule?.at, "02:00");
  assert.equal(parseBackupArgs(backupOf("--every", "1d", "--at", "14:05")).schedule?.at, "14:05");
});

Deno.test("--ssh: a host as ssh takes it, with the sources that can run there", () => {
  const parsed = parseBackupArgs([
    ...["--ssh", "backup@db1:2222", "--ssh-config", "conf/ssh", "--folder", "/srv/www"],
    ...["--dest", "/b"],
  ]);
  assert.deepEqual(parsed.source, {
    kind: "folder",
    path: "/srv/www",
    exclude: [],
    split: false,
    ssh: { destination: "backup@db1", port: 2222, config: `${Deno.cwd()}/conf/ssh` },
  });
  assert.equal(parsed.name, "www.tar");
  const command = parseBackupArgs([
    "--ssh",
    "db1",
    "--command",
    "ls",
    "--name",
    "x",
    "--dest",
    "/b",
  ]);
  assert.deepEqual(command.source, {
    kind: "command",
    command: "ls",
    okExit: [],
    ssh: { destination: "db1" },
  });
  assert.deepEqual(
    parseBackupArgs(["--ssh", "db1", "--sqlite", "/srv/app.db", "--dest", "/b"]).source,
    { kind: "sqlite", path: "/srv/app.db", ssh: { destination: "db1" } },
  );
  for (const source of [["--file", "a"], ["--stdin", "--name", "x"]]) {
    assertUsageError(
      () => parseBackupArgs(["--ssh", "db1", ...source, "--dest", "/b"]),
      new RegExp(`--ssh does not go with ${source[0]}`),
      /--ssh HOST --folder|--ssh with --command/,
    );
  }
  assertUsageError(
    () => parseBackupArgs(["--ssh-config", "c", "--folder", "/a", "--dest", "/b"]),
    /--ssh-config goes with --ssh or an sftp:\/\/ destination/,
  );
  assertUsageError(
    () =>
      parseBackupArgs([
        "--ssh",
        "h",
        "--command",
        "x",
        "--ok-exit",
        "1,255",
        "--name",
        "x",
        "--dest",
        "/b",
      ]),
    /--ok-exit 255 does not go with --ssh/,
  );
  for (const bad of ["-oProxyCommand=x", "a b", "host:99999"]) {
    assertUsageError(
      () => parseBackupArgs([`--ssh=${bad}`, "--folder", "/a", "--dest", "/b"]),
      /--ssh must be a host, as ssh takes it/,
      /--ssh backup@db1\.example\.com/,
    );
  }
});
