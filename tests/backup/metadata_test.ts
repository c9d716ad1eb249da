import assert from "node:assert/strict";
import {
  type BackupMetadata,
  describeSource,
  formatMetadata,
  METADATA_FORMAT,
  MetadataError,
  metadataPathFor,
  parseMetadata,
  sameOrigin,
  sameSeriesOrigin,
  type SourceInfo,
} from "../../lib/backup/metadata.ts";
import { backupFileName, COMPRESSIONS } from "../../lib/backup/naming.ts";
import { seal, unseal } from "../../lib/backup/sealed_metadata.ts";

const FILE = "notes.db.20261122T185413Z.gz";
const SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

function sample(): BackupMetadata {
  return {
    format: METADATA_FORMAT,
    file: FILE,
    name: "notes.db",
    generation: 3,
    source: {
      kind: "file",
      path: "/home/me/notes.db",
      mode: 0o100644,
      mtime: "2026-11-22T18:50:00.000Z",
    },
    time: "2026-11-22T18:54:13.123Z",
    compression: "gzip",
    size: 1234,
    storedSize: 567,
    sha256: SHA256,
    storedSha256: SHA256,
    changedWhileRead: false,
    tool: "tinybackup 0.1.0",
  };
}

/**
 * The sample metadata as written, with `changes` applied (and its checksum
 * made to match them); an undefined value removes the field.
 */
function sampleText(changes: Record<string, unknown>): string {
  const value: Record<string, unknown> = { ...sample(), ...changes };
  for (const [key, change] of Object.entries(changes)) {
    if (change === undefined) delete value[key];
  }
  return formatMetadata(value as unknown as BackupMetadata);
}

/** Asserts that parsing `text` as the metadata of `file` throws a MetadataError matching `message`. */
function assertRejected(text: string, message: RegExp, file = FILE) {
  assert.throws(
    () => parseMetadata(text, file),
    (error) => {
      assert.ok(error instanceof MetadataError, `${error} is a MetadataError`);
      assert.equal(error.name, "MetadataError");
      assert.match(error.message, message);
      return true;
    },
  );
}

// formatMetadata and parseMetadata

Deno.test("formatMetadata writes indented JSON ending in a newline", () => {
  const text = formatMetadata(sample());
  assert.ok(text.endsWith("}\n"));
  assert.match(text, /^{\n {2}"format": "tinybackup-backup\/2",\n/);
  const { metadataSha256, ...fields } = JSON.parse(text);
  assert.deepEqual(fields, sample());
  assert.match(metadataSha256, /^[0-9a-f]{64}$/);
});

Deno.test("parseMetadata reads back what formatMetadata wrote", () => {
  assert.deepEqual(parseMetadata(formatMetadata(sample()), FILE), sample());
});

Deno.test("parseMetadata reads back metadata of a stdin backup", () => {
  const metadata: BackupMetadata = { ...sample(), source: { kind: "stdin" } };
  assert.deepEqual(parseMetadata(formatMetadata(metadata), FILE), metadata);
});

Deno.test("parseMetadata reads back metadata for every compression", () => {
  for (const compression of COMPRESSIONS) {
    const file = backupFileName("notes.db", new Date("2026-11-22T18:54:13.123Z"), 2, compression);
    const metadata: BackupMetadata = { ...sample(), file, compression };
    assert.deepEqual(parseMetadata(formatMetadata(metadata), file), metadata, compression);
  }
});

Deno.test("parseMetadata reads back metadata with hostile but valid names", () => {
  for (const name of ["my notes.db", "$(rm -rf ~)", "`id`", "a\nb", "-rf", "日本語 😀", "'\""]) {
    const file = backupFileName(name, new Date("2026-11-22T18:54:13.123Z"), 1, "zstd");
    const metadata: BackupMetadata = {
      ...sample(),
      file,
      name,
      compression: "zstd",
      source: { kind: "file", path: `/data/${name}`, mode: 0o600, mtime: sample().time },
    };
    assert.deepEqual(parseMetadata(formatMetadata(metadata), file), metadata, JSON.stringify(name));
  }
});

Deno.test("parseMetadata accepts zero sizes and a changed-while-read backup", () => {
  const metadata: BackupMetadata = {
    ...sample(),
    size: 0,
    storedSize: 0,
    changedWhileRead: true,
  };
  assert.deepEqual(parseMetadata(formatMetadata(metadata), FILE), metadata);
});

// parseMetadata refusing metadata

Deno.test("parseMetadata rejects text that is not JSON", () => {
  for (
    const text of ["", "{", "{'format': 1}", "not json", formatMetadata(sample()).slice(0, 60)]
  ) {
    assertRejected(text, /not valid JSON/);
  }
});

Deno.test("parseMetadata rejects JSON that is not an object", () => {
  for (const text of ["null", "[]", "42", '"text"', "true"]) {
    assertRejected(text, /no fields/);
  }
});

Deno.test("parseMetadata rejects an unknown format, naming it", () => {
  assertRejected(
    sampleText({ format: "tinybackup-backup/1" }),
    /unknown format "tinybackup-backup\/1"/,
  );
  assertRejected(sampleText({ format: "something-else" }), /unknown format/);
  assertRejected(sampleText({ format: 1 }), /unknown format 1/);
});

Deno.test("parseMetadata rejects metadata whose file name is not the backup's", () => {
  assertRejected(sampleText({}), /does not match/, "notes.db.20261122T185413Z_2.gz");
  assertRejected(sampleText({ file: "other.20261122T185413Z.gz" }), /does not match/);
});

Deno.test("parseMetadata rejects metadata for a file that is not a backup name", () => {
  assertRejected(sampleText({ file: "notes.db" }), /not a backup name/, "notes.db");
  assertRejected(
    sampleText({ file: ".hidden.20261122T185413Z" }),
    /not a backup name/,
    ".hidden.20261122T185413Z",
  );
});

Deno.test("parseMetadata rejects a generation that is not a whole number from 1", () => {
  for (const generation of [0, -1, 1.5, "2", null, 2 ** 53]) {
    assertRejected(sampleText({ generation }), /invalid generation/);
  }
});

Deno.test("parseMetadata rejects an invalid series name", () => {
  for (const name of ["", ".hidden", "a/b", "a\0b", "x".repeat(256), 42]) {
    assertRejected(sampleText({ name }), /invalid series name/);
  }
});

Deno.test("parseMetadata rejects a bad sha256", () => {
  for (
    const sha256 of [
      "",
      SHA256.slice(1),
      SHA256 + "0",
      SHA256.toUpperCase(),
      "g".repeat(64),
      ` ${SHA256.slice(1)}`,
      42,
    ]
  ) {
    assertRejected(sampleText({ sha256 }), /invalid sha256/);
  }
});

Deno.test("parseMetadata rejects a bad stored sha256", () => {
  for (const storedSha256 of ["", SHA256.slice(1), SHA256.toUpperCase(), 42, null]) {
    assertRejected(sampleText({ storedSha256 }), /invalid stored sha256/);
  }
});

Deno.test("parseMetadata rejects metadata changed after it was written, in any field", () => {
  const text = formatMetadata(sample());
  for (
    const [from, to] of [
      ['"mode": 33188', '"mode": 33206'],
      ['"tool": "tinybackup 0.1.0"', '"tool": "tinybackup 0.1.1"'],
      ['"path": "/home/me/notes.db"', '"path": "/home/me/notes.dc"'],
      ["18:54:13.123Z", "18:54:13.124Z"],
      ['"metadataSha256": "', '"metadataSha256": "0'],
    ]
  ) {
    assert.ok(text.includes(from), from);
    assertRejected(text.replace(from, to), /checksum that does not match|invalid/);
  }
  // Without its checksum, nothing shows whether it changed.
  assertRejected(JSON.stringify(sample()), /checksum that does not match/);
});

Deno.test("parseMetadata rejects a negative, fractional, unsafe or non-numeric size", () => {
  for (const size of [-1, 1.5, 2 ** 53, "12", null, true]) {
    assertRejected(sampleText({ size }), /invalid size/);
  }
});

Deno.test("parseMetadata rejects a negative, fractional or non-numeric stored size", () => {
  for (const storedSize of [-1, 0.5, "12", null]) {
    assertRejected(sampleText({ storedSize }), /invalid stored size/);
  }
});

Deno.test("parseMetadata rejects an unknown compression", () => {
  for (const compression of ["bzip2", "GZIP", "gz", "", null]) {
    assertRejected(sampleText({ compression }), /unknown compression/);
  }
});

Deno.test("parseMetadata rejects a time that is not ISO 8601 UTC with milliseconds", () => {
  for (
    const time of [
      "2026-11-22T18:54:13Z",
      "2026-11-22T18:54:13.1234Z",
      "2026-11-22 18:54:13.123Z",
      "2026-11-22T18:54:13.123+01:00",
      "2026-11-22T18:54:13.123",
      "yesterday",
      "",
      1795287253123,
    ]
  ) {
    assertRejected(sampleText({ time }), /invalid time/);
  }
});

Deno.test("parseMetadata rejects a file source with a relative path", () => {
  for (const path of ["notes.db", "./notes.db", "../notes.db", "", "~/notes.db"]) {
    const source = { ...sample().source, path };
    assertRejected(sampleText({ source }), /invalid source/);
  }
});

Deno.test("parseMetadata rejects a malformed source", () => {
  const file = sample().source;
  for (
    const source of [
      null,
      "stdin",
      { kind: "pipe" },
      {},
      { ...file, mode: "644" },
      { ...file, mode: 1.5 },
      { ...file, mtime: undefined },
    ]
  ) {
    assertRejected(sampleText({ source }), /invalid source/);
  }
});

Deno.test("parseMetadata rejects a non-boolean changedWhileRead, a non-string tool or madeOn", () => {
  assertRejected(sampleText({ changedWhileRead: "false" }), /invalid changedWhileRead/);
  assertRejected(sampleText({ tool: 1 }), /invalid tool/);
  assertRejected(sampleText({ madeOn: 1 }), /invalid madeOn/);
  assertRejected(sampleText({ madeOn: "" }), /invalid madeOn/);
});

Deno.test("parseMetadata rejects metadata missing any one field", () => {
  for (const field of Object.keys(sample())) {
    assert.throws(
      () => parseMetadata(sampleText({ [field]: undefined }), FILE),
      MetadataError,
      field,
    );
  }
});

// Small helpers

Deno.test("metadataPathFor puts a backup's metadata in .tinybackup as <file>.json", () => {
  assert.equal(metadataPathFor(FILE), `.tinybackup/${FILE}.json`);
});

Deno.test("describeSource gives a file's path, or stdin", () => {
  assert.equal(describeSource(sample().source), "/home/me/notes.db");
  assert.equal(describeSource({ kind: "stdin" }), "stdin");
});

// sameOrigin

const fileSource = (
  path: string,
  mode = 0o644,
  mtime = "2026-11-22T18:50:00.000Z",
): SourceInfo => ({
  kind: "file",
  path,
  mode,
  mtime,
});

Deno.test("sameOrigin: the same file path is the same origin, even if mode or mtime changed", () => {
  assert.equal(sameOrigin(fileSource("/a/notes.db"), fileSource("/a/notes.db")), true);
  assert.equal(
    sameOrigin(
      fileSource("/a/notes.db"),
      fileSource("/a/notes.db", 0o600, "2027-01-01T00:00:00.000Z"),
    ),
    true,
  );
});

Deno.test("sameOrigin: files at different paths are different origins, even with the same name", () => {
  assert.equal(sameOrigin(fileSource("/a/notes.db"), fileSource("/b/notes.db")), false);
});

Deno.test("sameOrigin: stdin is the same origin as stdin", () => {
  assert.equal(sameOrigin({ kind: "stdin" }, { kind: "stdin" }), true);
});

Deno.test("sameOrigin: a file and stdin are different origins, either way round", () => {
  assert.equal(sameOrigin(fileSource("/a/notes.db"), { kind: "stdin" }), false);
  assert.equal(sameOrigin({ kind: "stdin" }, fileSource("/a/notes.db")), false);
});

Deno.test("sameOrigin: stdin and any command are one stream origin, named by the user", () => {
  const command = (text: string): SourceInfo => ({ kind: "command", command: text });
  assert.equal(sameOrigin(command("pg_dump app"), command("pg_dump -Fc app")), true);
  assert.equal(sameOrigin(command("pg_dump app"), { kind: "stdin" }), true);
  assert.equal(sameOrigin({ kind: "stdin" }, command("pg_dump app")), true);
  assert.equal(sameOrigin(command("cat /a/notes.db"), fileSource("/a/notes.db")), false);
});

Deno.test("sameOrigin: a SQLite database is its own origin, never the same file backed up bytewise", () => {
  const sqlite = (path: string): SourceInfo => ({
    kind: "sqlite",
    path,
    mode: 0o640,
    mtime: "2026-11-22T18:50:00.000Z",
  });
  assert.equal(sameOrigin(sqlite("/a/app.db"), sqlite("/a/app.db")), true);
  assert.equal(sameOrigin(sqlite("/a/app.db"), sqlite("/b/app.db")), false);
  assert.equal(sameOrigin(sqlite("/a/app.db"), fileSource("/a/app.db")), false);
});

Deno.test("parseMetadata accepts command and SQLite sources", () => {
  for (
    const source of [
      { kind: "command", command: "pg_dump -Fc app" },
      { kind: "sqlite", path: "/var/lib/app.db", mode: 0o640, mtime: "2026-11-22T18:50:00.000Z" },
    ]
  ) {
    const text = sampleText({ source });
    assert.deepEqual(parseMetadata(text, FILE).source, source);
  }
});

Deno.test("parseMetadata rejects a compression the backup's file name does not have", () => {
  assertRejected(sampleText({ compression: "zstd" }), /compression its file name does not have/);
  assertRejected(sampleText({ compression: "none" }), /compression its file name does not have/);
});

Deno.test("parseMetadata rejects a series name the backup's file name does not start with", () => {
  assertRejected(sampleText({ name: "other" }), /series name its file name does not have/);
});

Deno.test("parseMetadata accepts a full series name whose file name carries it shortened", () => {
  const name = "n".repeat(255);
  const file = backupFileName(name, new Date("2026-11-22T18:54:13.123Z"), 1, "gzip");
  assert.ok(file.length < name.length);
  assert.equal(parseMetadata(sampleText({ name, file }), file).name, name);
});

Deno.test("parseMetadata rejects an impossible date", () => {
  assertRejected(sampleText({ time: "2027-13-45T99:99:99.000Z" }), /invalid time/);
});

Deno.test("sameSeriesOrigin: one origin made on one machine; a backup that names none fits any", () => {
  const backup = (madeOn: string | undefined, source: SourceInfo = fileSource("/a/notes.db")) => ({
    source,
    ...(madeOn === undefined ? {} : { madeOn }),
  });
  const here = (madeOn: string, source: SourceInfo = fileSource("/a/notes.db")) => ({
    source,
    madeOn,
  });
  assert.equal(sameSeriesOrigin(backup("host1"), here("host1")), true);
  assert.equal(sameSeriesOrigin(backup("host1"), here("host2")), false, "two hosts, one bucket");
  assert.equal(
    sameSeriesOrigin(backup("host1", { kind: "stdin" }), here("host2", { kind: "stdin" })),
    false,
  );
  assert.equal(
    sameSeriesOrigin(backup(undefined), here("host2")),
    true,
    "made before machines were recorded",
  );
  assert.equal(
    sameSeriesOrigin(backup("host1"), here("host1", fileSource("/b/notes.db"))),
    false,
  );
});

Deno.test("sameSeriesOrigin: an encrypted backup is of this series only by its keyed origin tag", () => {
  const tag = "a".repeat(64);
  const sealed = {
    source: { kind: "sealed" } as const,
    encryption: {
      format: "age" as const,
      originTag: tag,
      contentTag: "b".repeat(64),
      sealed: "AA==",
    },
  };
  const here = (originTag?: string) => ({
    source: fileSource("/a/notes.db"),
    madeOn: "host1",
    ...(originTag === undefined ? {} : { originTag }),
  });
  assert.equal(sameSeriesOrigin(sealed, here(tag)), true);
  assert.equal(sameSeriesOrigin(sealed, here("c".repeat(64))), false, "another source or machine");
  assert.equal(sameSeriesOrigin(sealed, here()), false, "a machine without a tag key");
});

Deno.test("unseal: clear tags that the sealed part does not repeat are not believed", () => {
  const fileKey = new Uint8Array(16).fill(7);
  const tags = { originTag: "a".repeat(64), contentTag: "b".repeat(64) };
  const sealed = seal(
    { source: fileSource("/a/notes.db"), sha256: "c".repeat(64), madeOn: "host1", ...tags },
    fileKey,
  );
  const metadata = (contentTag: string) =>
    ({
      ...sample(),
      encryption: { format: "age", ...tags, contentTag, sealed },
    }) as BackupMetadata;
  assert.equal(unseal(metadata(tags.contentTag), fileKey).sha256, "c".repeat(64));
  assert.throws(() => unseal(metadata("d".repeat(64)), fileKey), MetadataError);
  assert.throws(() => unseal(metadata(tags.contentTag), new Uint8Array(16)), MetadataError);
});
