/**
 * Calendar retention end to end: backups made on given days (the clock set
 * with faketime, TZ fixed), rotated by --keep-daily and --keep-weekly, and
 * `prune --dry-run` saying why each backup stays. Read back with gunzip.
 */
import assert from "node:assert/strict";
import { needs, programs } from "../_requires.ts";
import { commandLine, type Run, run, tempDir } from "./_cli.ts";

const withFaketime = await needs("cli/calendar_retention_test.ts", programs("gunzip", "faketime"));

/** Runs tinybackup with the clock at `day` (YYYY-MM-DD) at noon, in Europe/Paris. */
function tinybackupOn(day: string, args: string[]): Promise<Run> {
  return tinybackupAt(`${day} 12:00:00`, "Europe/Paris", args);
}

/** Runs tinybackup in time zone `tz` with the clock starting (and running) at `clock`, local time there. */
async function tinybackupAt(clock: string, tz: string, args: string[]): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command("faketime", {
    args: ["-f", `@${clock}`, ...commandLine(args)],
    env: { TZ: tz },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr), bytes: stdout };
}

/** The days (DD) of November or December whose backups remain, read back from each backup. */
async function daysKept(dest: string): Promise<string[]> {
  const days = [];
  for await (const entry of Deno.readDir(dest)) {
    if (entry.name.startsWith(".")) continue;
    const content = new TextDecoder().decode(await run("gunzip", ["-c", `${dest}/${entry.name}`]));
    days.push(/^made on 2026-(\d\d-\d\d)/.exec(content)![1]);
  }
  return days.sort().reverse();
}

withFaketime.test("calendar retention: --keep-daily and --keep-weekly rotate by local days and ISO weeks; prune --dry-run says why", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/notes.db`;
  const dest = `${dir.path}/b`;
  // Friday 20 to Sunday 29 November 2026: ISO weeks 47 (20–22) and 48 (23–29).
  for (let day = 20; day <= 29; day++) {
    await Deno.writeTextFile(file, `made on 2026-11-${day}\n`);
    const made = await tinybackupOn(`2026-11-${day}`, [
      "--file",
      file,
      "--dest",
      dest,
      "--keep",
      "0",
    ]);
    assert.equal(made.code, 0, made.stderr);
  }
  assert.equal((await daysKept(dest)).length, 10);

  const rules = ["--keep-daily", "3", "--keep-weekly", "2"];
  const dry = await tinybackupOn("2026-11-29", [
    "prune",
    "--dest",
    dest,
    "--name",
    "notes.db",
    ...rules,
    "--dry-run",
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  const why = [...dry.stderr.matchAll(/would keep \S+\.(\d{8})T\d{6}Z\.gz \(([^)]*)\)/g)]
    .map(([, time, reasons]) => `${time.slice(4)}: ${reasons}`);
  assert.deepEqual(why, ["1129: daily, weekly", "1128: daily", "1127: daily", "1122: weekly"]);
  assert.match(dry.stderr, /would remove 6 of 10 backup\(s\)/);
  assert.equal(dry.stdout.trim().split("\n").length, 6);
  assert.equal((await daysKept(dest)).length, 10, "a dry run removes nothing");

  // A backup on Monday 30 November (week 49) rotates with the same rules.
  await Deno.writeTextFile(file, "made on 2026-11-30\n");
  const made = await tinybackupOn("2026-11-30", ["--file", file, "--dest", dest, ...rules]);
  assert.equal(made.code, 0, made.stderr);
  // Daily: 30, 29, 28. Weekly: 30 (week 49), 29 (week 48); week 47 is past the count.
  assert.deepEqual(await daysKept(dest), ["11-30", "11-29", "11-28"]);
});

withFaketime.test("calendar retention: days are counted in local time, as TZ gives it", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/notes.db`;
  const dest = `${dir.path}/b`;
  // In Paris (UTC+1): 23:30 on 2 December, then 00:30 and 01:30 on the 3rd;
  // in UTC: 22:30 and 23:30 on the 2nd, then 00:30 on the 3rd.
  for (
    const [clock, content] of [["2026-12-02 23:30:00", "a"], ["2026-12-03 00:30:00", "b"], [
      "2026-12-03 01:30:00",
      "c",
    ]]
  ) {
    await Deno.writeTextFile(file, `made on 2026-${content}\n`);
    const made = await tinybackupAt(clock, "Europe/Paris", ["--file", file, "--dest", dest]);
    assert.equal(made.code, 0, made.stderr);
  }
  const removedIn = async (tz: string) => {
    const dry = await tinybackupAt("2026-12-03 02:00:00", tz, [
      "prune",
      "--dest",
      dest,
      "--name",
      "notes.db",
      "--keep-daily",
      "2",
      "--dry-run",
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    const removed = [];
    for (const path of dry.stdout.trim().split("\n")) {
      removed.push(new TextDecoder().decode(await run("gunzip", ["-c", path])).trim());
    }
    return removed;
  };
  // Paris: the 3rd keeps 01:30 (c), the 2nd 23:30 (a). UTC: the 3rd keeps c, the 2nd 23:30 UTC (b).
  assert.deepEqual(await removedIn("Europe/Paris"), ["made on 2026-b"]);
  assert.deepEqual(await removedIn("UTC"), ["made on 2026-a"]);
});
