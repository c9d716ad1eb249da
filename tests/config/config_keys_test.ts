import assert from "node:assert/strict";
import {
  type Context,
  inFileTerms,
  readConfig,
  SPELLED_FLAGS,
  suggestion,
} from "../../lib/config/config_keys.ts";
import { BACKUP_OPTIONS, parseBackupArgs } from "../../lib/cli/args.ts";

const CONTEXT: Context = {
  env: (name) => ({ HC: "uuid-1", HOST: "db1" } as Record<string, string>)[name],
  home: "/home/ed",
  dir: "/etc/tb",
};

const read = (doc: Record<string, unknown>) => readConfig(doc, CONTEXT);
const problemsOf = (doc: Record<string, unknown>) => read(doc).problems;

Deno.test("readConfig: a backup becomes the arguments the command line would take", () => {
  const { backups, problems } = read({
    defaults: {
      dest: ["/backups", "s3://offsite/${HOST}"],
      compress: "zstd",
      retention: { last: 3, daily: 7, within: "1y" },
      ping_url: "https://hc-ping.com/${HC}",
    },
    backup: {
      photos: {
        folder: "~/photos",
        exclude: ["*.tmp", "cache/"],
        split: true,
        schedule: { every: "1w", runs: 4, stop_if_missing: true },
        on_failure: ["notify-send", "backup failed"],
      },
      dump: {
        command: "pg_dumpall",
        name: "all.sql",
        ok_exit: [1, 24],
        dest: "relative/bk",
        lock_wait: 0,
        allow_empty: true,
        allow_changing: false,
      },
    },
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(backups, [
    {
      name: "photos",
      args: [
        "--compress=zstd",
        "--keep=3",
        "--keep-daily=7",
        "--keep-within=1y",
        "--folder=/home/ed/photos",
        "--exclude=*.tmp",
        "--exclude=cache/",
        "--split",
        "--every=1w",
        "--runs=4",
        "--stop-if-missing",
      ],
      dests: ["/backups", "s3://offsite/db1"],
      ping: { url: "https://hc-ping.com/uuid-1", timeoutSeconds: 10 },
      onFailure: ["notify-send", "backup failed"],
    },
    {
      name: "dump",
      args: [
        "--compress=zstd",
        "--keep=3",
        "--keep-daily=7",
        "--keep-within=1y",
        "--command=pg_dumpall",
        "--name=all.sql",
        "--ok-exit=1,24",
        "--lock-wait=0",
        "--allow-empty",
      ],
      dests: ["/etc/tb/relative/bk"],
      ping: { url: "https://hc-ping.com/uuid-1", timeoutSeconds: 10 },
    },
  ]);
});

Deno.test("readConfig: a table of the backup replaces the default's whole, not key by key", () => {
  const { backups } = read({
    defaults: { dest: "/b", retention: { last: 3, daily: 7 } },
    backup: { a: { file: "/x", retention: { weekly: 2 } } },
  });
  assert.deepEqual(backups[0].args, ["--keep-weekly=2", "--file=/x"]);
});

Deno.test("readConfig: TOML local times are read as HH:MM for schedule.at", () => {
  // smol-toml gives a local time as a Date whose ISO form is the time alone.
  const at = Object.assign(new Date(0), { toISOString: () => "02:30:00.000" });
  const { backups, problems } = read({
    backup: { a: { file: "/x", dest: "/b", schedule: { every: "1d", at } } },
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(backups[0].args.slice(-2), ["--every=1d", "--at=02:30"]);
});

Deno.test("readConfig lists every problem at once, each with its key path, a default's once", () => {
  const { backups, problems } = read({
    default: {},
    defaults: { file: "/x", dest: "/b", retention: { dayly: 7 } },
    backup: {
      photos: {
        folder: 5,
        split: "yes",
        exclude: "*.tmp",
        ok_exit: ["1"],
        lock_wait: 1.5,
        schedule: "daily",
        compres: "zstd",
        "ssh-config": "~/.ssh/cfg",
        ping_url: "hc-ping.com/x",
        on_failure: [],
      },
      ".hidden": { file: "/x" },
      notable: "x",
      nosource: { dest: "/b" },
      nodest: { file: "/x", dest: [] },
      twice: { file: "/x", dest: ["/b", "/b"] },
      unset: { file: "${NOPE}", dest: "/b" },
      both: { file: "/x", ping_url: "https://h/x", ping_url_file: "/p" },
    },
  });
  assert.deepEqual(problems, [
    "default: unknown key; did you mean defaults?",
    "defaults.file: a source belongs in a [backup.NAME] table",
    "defaults.retention.dayly: unknown key; did you mean daily?",
    "backup.photos.folder: expected a string, got number 5",
    'backup.photos.split: expected true or false, got the string "yes"',
    'backup.photos.exclude: expected a list of strings, e.g. ["a", "b"], got the string "*.tmp"',
    "backup.photos.ok_exit: expected a list of exit codes, e.g. [1, 24], got a list",
    "backup.photos.lock_wait: expected a whole number, got number 1.5",
    "backup.photos.schedule: expected a table, e.g. schedule = { every = ... }",
    "backup.photos.compres: unknown key; did you mean compress?",
    "backup.photos.ssh-config: unknown key; did you mean ssh_config?",
    "backup.photos.ping_url: expected an http:// or https:// URL",
    "backup.photos.on_failure: the command is empty",
    "backup..hidden: a backup's name is letters, digits, '_', '.' and '-', up to 64, not starting with '.' or '-'",
    "backup.notable: expected a table ([backup.notable])",
    "backup.nosource: no source: give one of file, folder, sqlite, postgres, mysql, command",
    "backup.nodest: no dest: set dest here or in [defaults]",
    "backup.twice.dest: /b is given twice",
    "backup.unset.file: ${NOPE} is not set (give a default with ${NOPE:-VALUE})",
    "backup.both.ping_url_file: give one of ping_url and ping_url_file, not both",
  ]);
  assert.deepEqual(backups, [], "no backup with a problem is left to run");
});

Deno.test("readConfig: a file with no backups, or with tables of the wrong shape, says so", () => {
  assert.deepEqual(problemsOf({}), [
    "backup: no backups: add a [backup.NAME] table with a source and a dest",
  ]);
  assert.deepEqual(problemsOf({ backup: "x", defaults: [1] }), [
    "defaults: expected a table ([defaults])",
    "backup: expected a table ([backup.NAME])",
  ]);
});

Deno.test("readConfig: paths: ~ is the home folder, relative is relative to the file, URLs stay", () => {
  const { backups } = read({
    backup: {
      a: { sqlite: "data/app.db", dest: ["~", "~/bk", "sftp://nas/srv/b", "ftps://u@h/b"] },
    },
  });
  assert.deepEqual(backups[0].args, ["--sqlite=/etc/tb/data/app.db"]);
  assert.deepEqual(backups[0].dests, [
    "/home/ed",
    "/home/ed/bk",
    "sftp://nas/srv/b",
    "ftps://u@h/b",
  ]);
});

Deno.test("readConfig: ping_url_file is read at run time, so its path is kept, resolved", () => {
  const { backups } = read({ backup: { a: { file: "/x", dest: "/b", ping_url_file: "ping" } } });
  assert.deepEqual(backups[0].ping, { file: "/etc/tb/ping", timeoutSeconds: 10 });
  const byCommand = read({
    backup: { a: { file: "/x", dest: "/b", ping_url_command: "pass show hc" } },
  });
  assert.deepEqual(byCommand.backups[0].ping, { command: "pass show hc", timeoutSeconds: 10 });
  assert.deepEqual(
    problemsOf({ backup: { a: { file: "/x", dest: "/b", ping_url_command: " " } } }),
    ["backup.a.ping_url_command: expected a command, got an empty string"],
  );
  const slow = read({
    backup: { a: { file: "/x", dest: "/b", ping_url: "http://h/x", ping_timeout: 3 } },
  });
  assert.deepEqual(slow.backups[0].ping, { url: "http://h/x", timeoutSeconds: 3 });
  assert.deepEqual(
    problemsOf({
      backup: { a: { file: "/x", dest: "/b", ping_url: "http://h/x", ping_timeout: 0 } },
    }),
    ["backup.a.ping_timeout: expected whole seconds from 1 to 300, got number 0"],
  );
});

Deno.test("readConfig: a ping_url that is not an http(s) URL is refused without quoting it (it holds a secret)", () => {
  for (const url of ["https://a b/s3cr3t", "ftp://h/s3cr3t", "s3cr3t"]) {
    const problems = problemsOf({ backup: { a: { file: "/x", dest: "/b", ping_url: url } } });
    assert.deepEqual(problems, ["backup.a.ping_url: expected an http:// or https:// URL"], url);
  }
});

Deno.test("suggestion: a letter or two off, or dashes for underscores; nothing for a far-off key", () => {
  assert.equal(suggestion("dayly", ["daily", "weekly"]), "; did you mean daily?");
  assert.equal(suggestion("lock-wait", ["lock_wait"]), "; did you mean lock_wait?");
  assert.equal(suggestion("destination", ["dest", "name"]), "");
  assert.equal(suggestion("x", ["file", "folder"]), "");
});

Deno.test("inFileTerms: the command line's option names become the file's keys", () => {
  assert.equal(
    inFileTerms("--keep-daily must be a whole number, 1 or more (got '0')"),
    "retention.daily must be a whole number, 1 or more (got '0')",
  );
  assert.equal(
    inFileTerms("--file and --folder cannot be used together"),
    "file and folder cannot be used together",
  );
  assert.equal(inFileTerms("--at goes with --every"), "schedule.at goes with schedule.every");
  assert.equal(inFileTerms("--ssh-config goes with --ssh"), "ssh_config goes with ssh");
});

Deno.test("every option of a backup has its key in the file, but those of one run from a terminal", () => {
  // What only makes sense typed for one run: reading a pipe, and how this run talks.
  const onlyTyped = [
    "help",
    "stdin",
    "force",
    "dry-run",
    "quiet",
    "verbose",
    "json",
    "schedule-only",
  ];
  const missing = Object.keys(BACKUP_OPTIONS)
    .filter((option) => !onlyTyped.includes(option) && !SPELLED_FLAGS.includes(`--${option}`));
  assert.deepEqual(missing, []);
});

Deno.test("readConfig: a value that starts with '-' stays a value, never an option", () => {
  const { backups } = read({
    backup: { a: { folder: "/srv", dest: "/b", exclude: ["-draft*", "--force"] } },
  });
  const args = parseBackupArgs([...backups[0].args, `--dest=${backups[0].dests[0]}`]);
  assert.deepEqual((args.source as { exclude: string[] }).exclude, ["-draft*", "--force"]);
  assert.equal(args.force, false);
});

Deno.test("readConfig: an empty retention or schedule table is a mistake, not the default", () => {
  assert.deepEqual(
    problemsOf({ backup: { a: { file: "/x", dest: "/b", retention: {}, schedule: {} } } }),
    [
      "backup.a.retention: the table is empty: give last, hourly, daily, weekly, monthly, yearly, within, or leave retention out",
      "backup.a.schedule: the table is empty: give every, at, time, runs, stop_if_missing, or leave schedule out",
    ],
  );
});
