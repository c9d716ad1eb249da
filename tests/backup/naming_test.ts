import assert from "node:assert/strict";
import {
  backupFileName,
  type Compression,
  COMPRESSIONS,
  extensionOf,
  formatStamp,
  MAX_BACKUP_NAME_BYTES,
  parseBackupFileName,
  seriesNameProblem,
} from "../../lib/backup/naming.ts";

const TIME = new Date("2026-11-22T18:54:13.987Z");
const STAMP = "20261122T185413Z";
const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).length;

/** Names a user may legitimately choose that a shell or a careless parser would trip on. */
const HOSTILE_BUT_VALID_NAMES = [
  "my notes.db",
  'it\'s "quoted"',
  "$(rm -rf ~)",
  "`whoami`",
  "line one\nline two",
  "tab\there",
  "日本語のメモ.txt",
  "emoji 😀 backup",
  "-rf",
  "--help",
  "*?[glob]",
  "back\\slash",
  "a..b",
  "ends with a dot.",
  "notes.db.20261122T185413Z.gz",
  "notes.db.20261122T185413Z_2",
];

// formatStamp

Deno.test("formatStamp writes UTC time as YYYYMMDDTHHMMSSZ, dropping milliseconds", () => {
  assert.equal(formatStamp(TIME), STAMP);
});

Deno.test("formatStamp uses UTC, not the local time zone", () => {
  assert.equal(formatStamp(new Date("2026-01-01T00:30:00.000+02:00")), "20251231T223000Z");
});

Deno.test("formatStamp zero-pads every field", () => {
  assert.equal(formatStamp(new Date("2026-01-02T03:04:05.006Z")), "20260102T030405Z");
});

// backupFileName

Deno.test("backupFileName is <series>.<stamp><extension> for each compression", () => {
  assert.equal(backupFileName("notes.db", TIME, 1, "gzip"), `notes.db.${STAMP}.gz`);
  assert.equal(backupFileName("notes.db", TIME, 1, "zstd"), `notes.db.${STAMP}.zst`);
  assert.equal(backupFileName("notes.db", TIME, 1, "none"), `notes.db.${STAMP}`);
});

Deno.test("backupFileName gives the first backup in a second no sequence suffix", () => {
  assert.equal(backupFileName("notes.db", TIME, 1, "gzip"), `notes.db.${STAMP}.gz`);
});

Deno.test("backupFileName suffixes later backups in the same second with _<sequence>", () => {
  assert.equal(backupFileName("notes.db", TIME, 2, "gzip"), `notes.db.${STAMP}_2.gz`);
  assert.equal(backupFileName("notes.db", TIME, 17, "zstd"), `notes.db.${STAMP}_17.zst`);
  assert.equal(backupFileName("notes.db", TIME, 3, "none"), `notes.db.${STAMP}_3`);
});

Deno.test("backupFileName keeps a series name that exactly fits the byte limit", () => {
  const suffix = `.${STAMP}.gz`;
  const series = "a".repeat(MAX_BACKUP_NAME_BYTES - suffix.length);
  const name = backupFileName(series, TIME, 1, "gzip");
  assert.equal(name, series + suffix);
  assert.equal(bytes(name), MAX_BACKUP_NAME_BYTES);
});

Deno.test("backupFileName shortens a series name one byte too long by one character", () => {
  const suffix = `.${STAMP}.gz`;
  const series = "a".repeat(MAX_BACKUP_NAME_BYTES - suffix.length + 1);
  assert.equal(backupFileName(series, TIME, 1, "gzip"), series.slice(0, -1) + suffix);
});

/**
 * Checks that `name` is the longest prefix of `series`, cut on a character
 * boundary, that fits with `suffix` in MAX_BACKUP_NAME_BYTES.
 */
function assertShortenedFairly(name: string, series: string, suffix: string) {
  assert.ok(name.endsWith(suffix), `name ends with ${suffix}`);
  assert.ok(bytes(name) <= MAX_BACKUP_NAME_BYTES, `${bytes(name)} bytes is within the limit`);
  const head = name.slice(0, -suffix.length);
  assert.ok(series.startsWith(head), "the shortened series is a prefix of the series");
  assert.ok(head.length < series.length, "the series was shortened");
  // A split surrogate pair or UTF-8 sequence would not survive an encode/decode round trip.
  assert.equal(new TextDecoder().decode(encoder.encode(head)), head);
  assert.equal(head.isWellFormed(), true);
  // Nothing more could have been kept: the next whole character would not fit.
  const next = [...series.slice(head.length)][0];
  assert.ok(bytes(head + next + suffix) > MAX_BACKUP_NAME_BYTES, "shortened no more than needed");
}

Deno.test("backupFileName shortens a long two-byte-character series name without splitting a character", () => {
  const series = "é".repeat(200); // 400 bytes
  assertShortenedFairly(backupFileName(series, TIME, 1, "gzip"), series, `.${STAMP}.gz`);
});

Deno.test("backupFileName shortens a long three-byte-character series name without splitting a character", () => {
  const series = "x" + "日".repeat(100); // 301 bytes; 'x' shifts the character boundaries
  assertShortenedFairly(backupFileName(series, TIME, 2, "none"), series, `.${STAMP}_2`);
});

Deno.test("backupFileName shortens a long emoji series name without splitting a surrogate pair", () => {
  for (const lead of ["", "x", "xy", "xyz"]) {
    const series = lead + "😀".repeat(80); // 4 bytes and 2 UTF-16 units each
    const suffix = `.${STAMP}_12.zst`;
    assertShortenedFairly(backupFileName(series, TIME, 12, "zstd"), series, suffix);
  }
});

Deno.test("backupFileName leaves room for the sequence suffix when shortening", () => {
  const series = "s".repeat(300);
  for (const sequence of [1, 2, 99, 1000]) {
    for (const compression of COMPRESSIONS) {
      const name = backupFileName(series, TIME, sequence, compression);
      assert.equal(bytes(name), MAX_BACKUP_NAME_BYTES, `${sequence} ${compression}`);
      const parsed = parseBackupFileName(name);
      assert.equal(parsed?.sequence, sequence);
      assert.equal(parsed?.compression, compression);
    }
  }
});

// parseBackupFileName

Deno.test("parseBackupFileName reads series, stamp, sequence and compression from a name", () => {
  assert.deepEqual(parseBackupFileName(`notes.db.${STAMP}_3.zst`), {
    series: "notes.db",
    stamp: STAMP,
    sequence: 3,
    compression: "zstd",
    encrypted: false,
  });
});

Deno.test("parseBackupFileName treats a name without an extension as uncompressed", () => {
  assert.deepEqual(parseBackupFileName(`app.sql.${STAMP}`), {
    series: "app.sql",
    stamp: STAMP,
    sequence: 1,
    compression: "none",
    encrypted: false,
  });
});

Deno.test("parseBackupFileName round-trips backupFileName for every compression, sequence and encryption", () => {
  for (const compression of COMPRESSIONS) {
    for (const sequence of [1, 2, 10, 1000]) {
      for (const encrypted of [false, true]) {
        const name = backupFileName("notes.db", TIME, sequence, compression, encrypted);
        assert.deepEqual(parseBackupFileName(name), {
          series: "notes.db",
          stamp: STAMP,
          sequence,
          compression,
          encrypted,
        }, name);
      }
    }
  }
});

Deno.test("backupFileName: an encrypted backup ends as age's files do, after the compression's", () => {
  assert.equal(backupFileName("notes.db", TIME, 1, "gzip", true), `notes.db.${STAMP}.gz.age`);
  assert.equal(backupFileName("notes.db", TIME, 2, "zstd", true), `notes.db.${STAMP}_2.zst.age`);
  assert.equal(backupFileName("notes.db", TIME, 1, "none", true), `notes.db.${STAMP}.age`);
  assert.equal(parseBackupFileName(`notes.db.${STAMP}.age.gz`), undefined);
});

Deno.test("parseBackupFileName round-trips hostile but valid series names", () => {
  for (const series of HOSTILE_BUT_VALID_NAMES) {
    for (const compression of COMPRESSIONS) {
      for (const sequence of [1, 2]) {
        const name = backupFileName(series, TIME, sequence, compression);
        assert.deepEqual(
          parseBackupFileName(name),
          { series, stamp: STAMP, sequence, compression, encrypted: false },
          JSON.stringify(name),
        );
      }
    }
  }
});

Deno.test("parseBackupFileName gives the shortened series of a long name", () => {
  const series = "ü".repeat(200);
  const name = backupFileName(series, TIME, 1, "gzip");
  const parsed = parseBackupFileName(name);
  assert.ok(parsed);
  assert.equal(parsed.series, name.slice(0, -`.${STAMP}.gz`.length));
  assert.ok(series.startsWith(parsed.series));
});

Deno.test("parseBackupFileName rejects names that are not backups", () => {
  const names = [
    "",
    "notes.db",
    STAMP,
    `.${STAMP}.gz`,
    `notes.db.${STAMP}.bz2`,
    `notes.db.${STAMP}.gz.json`,
    `notes.db.${STAMP}.gz.tmp`,
    `notes.db.${STAMP}_.gz`,
    `notes.db.${STAMP}_x.gz`,
    `notes.db.${STAMP}.GZ`,
    "notes.db.20261122T185413.gz",
    "notes.db.20261122185413Z.gz",
    "notes.db.2026112T185413Z.gz",
    "notes.db.20261122t185413z.gz",
    `notes.db-${STAMP}.gz`,
    `notes.db.${STAMP}\n`,
  ];
  for (const name of names) {
    assert.equal(parseBackupFileName(name), undefined, JSON.stringify(name));
  }
});

Deno.test("parseBackupFileName rejects names starting with '.', such as hidden files", () => {
  for (const name of [`.notes.db.${STAMP}.gz`, `..${STAMP}`, `.tinybackup.${STAMP}`]) {
    assert.equal(parseBackupFileName(name), undefined, name);
  }
});

Deno.test("extensionOf gives .gz, .zst and nothing", () => {
  const extensions: Record<Compression, string> = { gzip: ".gz", zstd: ".zst", none: "" };
  for (const compression of COMPRESSIONS) {
    assert.equal(extensionOf(compression), extensions[compression]);
  }
});

// seriesNameProblem

Deno.test("seriesNameProblem rejects an empty name", () => {
  assert.match(seriesNameProblem("") ?? "", /empty/);
});

Deno.test("seriesNameProblem rejects a name containing '/'", () => {
  for (const name of ["/", "a/b", "notes.db/", "/etc/passwd"]) {
    assert.match(seriesNameProblem(name) ?? "", /'\/'/, name);
  }
});

Deno.test("seriesNameProblem rejects a name containing a NUL byte", () => {
  for (const name of ["\0", "a\0b", "notes.db\0"]) {
    assert.match(seriesNameProblem(name) ?? "", /NUL/, JSON.stringify(name));
  }
});

Deno.test("seriesNameProblem rejects a name starting with '.'", () => {
  for (const name of [".", "..", ".hidden", ".tinybackup"]) {
    assert.match(seriesNameProblem(name) ?? "", /starts with '\.'/, name);
  }
});

Deno.test("seriesNameProblem rejects a name longer than 255 bytes, counting UTF-8 bytes", () => {
  assert.match(seriesNameProblem("a".repeat(256)) ?? "", /255 bytes/);
  assert.match(seriesNameProblem("€".repeat(86)) ?? "", /255 bytes/); // 258 bytes, 86 characters
  assert.match(seriesNameProblem("😀".repeat(64)) ?? "", /255 bytes/); // 256 bytes
});

Deno.test("seriesNameProblem accepts a name of exactly 255 bytes", () => {
  assert.equal(seriesNameProblem("a".repeat(255)), undefined);
  assert.equal(seriesNameProblem("€".repeat(85)), undefined);
});

Deno.test("seriesNameProblem accepts hostile but valid names", () => {
  for (const name of HOSTILE_BUT_VALID_NAMES) {
    assert.equal(seriesNameProblem(name), undefined, JSON.stringify(name));
  }
});
