import assert from "node:assert/strict";
import { formatAtTime, parseAtq, parseSubmitted } from "../../lib/schedule/at_format.ts";
import { assertChecksPass } from "./_tz.ts";

// Fixtures: what at(1) prints on each system (see shared/AT_FORMATS.md).

/** Debian/Ubuntu at 3.x: `at -q z -t 202612010200`, on stderr (observed on Debian 12, at 3.2.5). */
const DEBIAN_SUBMIT = "warning: commands will be executed using /bin/sh\n" +
  "job 2 at Tue Dec  1 02:00:00 2026\n";

/** Older Red Hat: `at` on stderr, ISO-like date. */
const REDHAT_SUBMIT = "job 3 at 2010-11-15 10:54\n";

/** FreeBSD and macOS: `at` on stderr (FreeBSD at.c: "Job %d will be executed using /bin/sh\n"). */
const BSD_SUBMIT = "Job 5 will be executed using /bin/sh\n";

/** Debian/Ubuntu at 3.x: `atq -q z`; job 3 is running now, so its queue shows as `=`. */
const DEBIAN_ATQ = "2\tTue Dec  1 02:00:00 2026 z root\n" +
  "3\tWed Dec  2 14:30:00 2026 = root\n" +
  "17\tSat Dec 12 23:59:00 2026 z backupuser\n";

/** Older Red Hat: `atq`, ISO-like dates. */
const REDHAT_ATQ = "2\t2010-11-15 10:53 a root\n" +
  "14\t2010-11-16 00:05 z alice\n";

/**
 * FreeBSD (and macOS as root): `atq`, a header, then date (strftime "%+", with
 * the zone), owner padded to 16, queue letter (`(done)` after it for a job
 * already run), job number last. Format "%s\t%-16s%c%s\t%d\n".
 */
const FREEBSD_ATQ = "Date\t\t\t\tOwner\t\tQueue\tJob#\n" +
  "Sat Sep 12 16:05:00 CEST 2026\ted              a\t5\n" +
  "Sat Sep 12 16:10:00 CEST 2026\ted              z(done)\t6\n" +
  "Wed Sep  2 03:00:00 CEST 2026\tbackupoperator  z\t12\n";

/** macOS: plain `atq` for a non-root user, as reported: number, tab, date; no queue, no owner. */
const MACOS_ATQ = "1\tFri Sep 16 11:24:00 2022\n";

// parseSubmitted

Deno.test("parseSubmitted reads the job number Debian prints after its /bin/sh warning", () => {
  assert.equal(parseSubmitted(DEBIAN_SUBMIT), 2);
});

Deno.test("parseSubmitted reads the job number from Red Hat's ISO-dated line", () => {
  assert.equal(parseSubmitted(REDHAT_SUBMIT), 3);
});

Deno.test("parseSubmitted reads the job number from FreeBSD and macOS ('Job N will be ...')", () => {
  assert.equal(parseSubmitted(BSD_SUBMIT), 5);
});

Deno.test("parseSubmitted reads multi-digit job numbers", () => {
  assert.equal(parseSubmitted("job 12345 at Tue Dec  1 02:00:00 2026\n"), 12345);
  assert.equal(parseSubmitted("Job 907 will be executed using /bin/sh\n"), 907);
});

Deno.test("parseSubmitted reads stderr and stdout run together, in either order", () => {
  assert.equal(parseSubmitted(DEBIAN_SUBMIT + "some stdout\n"), 2);
  assert.equal(parseSubmitted("some other output\n" + BSD_SUBMIT), 5);
});

Deno.test("parseSubmitted gives undefined when at queued nothing", () => {
  assert.equal(parseSubmitted(""), undefined);
  assert.equal(parseSubmitted("warning: commands will be executed using /bin/sh\n"), undefined);
  assert.equal(parseSubmitted("syntax error. Last token seen: tomorow\nGarbled time\n"), undefined);
  assert.equal(parseSubmitted("You do not have permission to use at.\n"), undefined);
  assert.equal(parseSubmitted("at: refusing to create job destined in the past\n"), undefined);
  // "job" not at the start of a line, or without a number, is not a report.
  assert.equal(parseSubmitted("cannot queue job 7 at all\n"), undefined);
  assert.equal(parseSubmitted("job x at noon\n"), undefined);
});

// parseAtq

Deno.test("parseAtq reads Debian lines: number, ctime date, queue", () => {
  assert.deepEqual(parseAtq(DEBIAN_ATQ), [
    { number: 2, due: new Date(2026, 11, 1, 2, 0, 0), queue: "z" },
    { number: 3, due: new Date(2026, 11, 2, 14, 30, 0), queue: "=" },
    { number: 17, due: new Date(2026, 11, 12, 23, 59, 0), queue: "z" },
  ]);
});

Deno.test("parseAtq shows a running Debian job with queue '='", () => {
  const running = parseAtq("3\tWed Dec  2 14:30:00 2026 = root\n");
  assert.equal(running.length, 1);
  assert.equal(running[0].queue, "=");
  assert.equal(running[0].number, 3);
});

Deno.test("parseAtq reads Red Hat's ISO-like dates", () => {
  assert.deepEqual(parseAtq(REDHAT_ATQ), [
    { number: 2, due: new Date(2010, 10, 15, 10, 53), queue: "a" },
    { number: 14, due: new Date(2010, 10, 16, 0, 5), queue: "z" },
  ]);
});

Deno.test("parseAtq reads FreeBSD's header format: zone in the date, number last, (done) as running", () => {
  assert.deepEqual(parseAtq(FREEBSD_ATQ), [
    { number: 5, due: new Date(2026, 8, 12, 16, 5, 0), queue: "a" },
    { number: 6, due: new Date(2026, 8, 12, 16, 10, 0), queue: "=" },
    { number: 12, due: new Date(2026, 8, 2, 3, 0, 0), queue: "z" },
  ]);
});

Deno.test("parseAtq reads FreeBSD dates in other zones", () => {
  const header = "Date\t\t\t\tOwner\t\tQueue\tJob#\n";
  for (const zone of ["UTC", "EST", "CET", "AEDT"]) {
    const [entry] = parseAtq(`${header}Mon Jan  5 09:30:00 ${zone} 2026\troot            z\t8\n`);
    assert.deepEqual(entry, { number: 8, due: new Date(2026, 0, 5, 9, 30, 0), queue: "z" }, zone);
  }
});

Deno.test("parseAtq reads macOS's plain lines: number and date, no queue", () => {
  assert.deepEqual(parseAtq(MACOS_ATQ), [
    { number: 1, due: new Date(2022, 8, 16, 11, 24, 0), queue: undefined },
  ]);
});

Deno.test("parseAtq gives no jobs for an empty queue", () => {
  assert.deepEqual(parseAtq(""), []);
  assert.deepEqual(parseAtq("\n"), []);
  // A header alone: no jobs.
  assert.deepEqual(parseAtq("Date\t\t\t\tOwner\t\tQueue\tJob#\n"), []);
});

Deno.test("parseAtq still reads the job number when it cannot read the date", () => {
  assert.deepEqual(parseAtq("7\tsometime soon z root\n"), [{ number: 7 }]);
  // A month name it does not know: the number and queue are still read.
  const [entry] = parseAtq("9\tTue Dez  1 02:00:00 2026 z root\n");
  assert.equal(entry.number, 9);
  assert.equal(entry.due, undefined);
  assert.equal(entry.queue, "z");
});

Deno.test("parseAtq skips lines that are not jobs", () => {
  assert.deepEqual(parseAtq("no jobs here\n2\tTue Dec  1 02:00:00 2026 z root\n  \n"), [
    { number: 2, due: new Date(2026, 11, 1, 2, 0, 0), queue: "z" },
  ]);
  const header = "Date\t\t\t\tOwner\t\tQueue\tJob#\n";
  assert.deepEqual(parseAtq(`${header}garbage\tline\n`), []);
});

// formatAtTime

Deno.test("formatAtTime writes CCYYMMDDhhmm in UTC", () => {
  assert.equal(formatAtTime(new Date("2026-12-01T02:00:00Z")), "202612010200");
  assert.equal(formatAtTime(new Date("2026-09-12T16:05:00Z")), "202609121605");
  assert.equal(formatAtTime(new Date("2026-12-31T23:59:00Z")), "202612312359");
});

Deno.test("formatAtTime zero-pads every field", () => {
  assert.equal(formatAtTime(new Date("2027-01-02T03:04:00Z")), "202701020304");
  assert.equal(formatAtTime(new Date("2026-01-01T00:00:00Z")), "202601010000");
});

Deno.test("formatAtTime drops seconds and milliseconds", () => {
  assert.equal(formatAtTime(new Date("2026-01-02T03:04:59.999Z")), "202601020304");
});

// In real time zones, in a child process with TZ set

const TZ_CHECKS = new URL("./_at_format_tz.ts", import.meta.url);

Deno.test("formatAtTime uses UTC and parseAtq local time in Europe/Berlin", async () => {
  await assertChecksPass(TZ_CHECKS, "Europe/Berlin", 2);
});

Deno.test("formatAtTime uses UTC and parseAtq local time in America/New_York", async () => {
  await assertChecksPass(TZ_CHECKS, "America/New_York", 2);
});
