/**
 * The time-zone-dependent checks of lib/schedule/at_format.ts: atq dates are
 * local time; `at -t` times are UTC whatever the zone. Not a test file: at_format_test.ts runs it in
 * a child process with TZ set, as `deno run _at_format_tz.ts ZONE` (see _tz.ts).
 */
import assert from "node:assert/strict";
import { formatAtTime, parseAtq } from "../../lib/schedule/at_format.ts";
import { runChecks } from "./_tz.ts";

const BSD_HEADER = "Date\t\t\t\tOwner\t\tQueue\tJob#\n";

runChecks({
  "Europe/Berlin": [
    ["formatAtTime writes UTC whatever the local zone, even in the repeated hour", () => {
      assert.equal(formatAtTime(new Date("2026-12-01T01:00:00Z")), "202612010100");
      assert.equal(formatAtTime(new Date("2026-10-25T00:30:00Z")), "202610250030");
      assert.equal(formatAtTime(new Date("2026-10-25T01:30:00Z")), "202610250130");
    }],
    ["parseAtq reads Debian, Red Hat and FreeBSD dates as local time", () => {
      assert.equal(
        parseAtq("2\tTue Dec  1 02:00:00 2026 z root\n")[0].due?.toISOString(),
        "2026-12-01T01:00:00.000Z",
      );
      assert.equal(
        parseAtq("2\t2026-07-01 00:30 a root\n")[0].due?.toISOString(),
        "2026-06-30T22:30:00.000Z",
      );
      assert.equal(
        parseAtq(`${BSD_HEADER}Sat Sep 12 16:05:00 CEST 2026\ted              a\t5\n`)[0].due
          ?.toISOString(),
        "2026-09-12T14:05:00.000Z",
      );
    }],
  ],
  "America/New_York": [
    ["formatAtTime writes UTC whatever the local zone", () => {
      assert.equal(formatAtTime(new Date("2026-12-01T07:00:00Z")), "202612010700");
      assert.equal(formatAtTime(new Date("2026-07-01T03:30:00Z")), "202607010330");
    }],
    ["parseAtq reads macOS dates as local time", () => {
      assert.equal(
        parseAtq("1\tFri Sep 16 11:24:00 2022\n")[0].due?.toISOString(),
        "2022-09-16T15:24:00.000Z",
      );
    }],
  ],
});
