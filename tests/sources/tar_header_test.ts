/**
 * The pax tar header encoder: its fields as plain values, then whole small
 * archives read back by the two tar implementations people have, GNU tar
 * and bsdtar (libarchive), as a restore would.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { needs, programs, ROOT } from "../_requires.ts";
import { run, tempDir } from "../cli/_cli.ts";
import {
  END_OF_ARCHIVE,
  entryProblem,
  headerChecksum,
  octalField,
  paddingAfter,
  paxMtime,
  paxRecord,
  splitUstarName,
  type TarEntry,
  tarHeader,
} from "../../lib/sources/tar/tar_header.ts";

const withTars = await needs("sources/tar_header_test.ts", programs("tar", "bsdtar"));
const asRootWithTars = await needs(
  "sources/tar_header_test.ts: extraction keeping owners and setuid",
  programs("tar", "bsdtar"),
  ROOT,
);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A text field of a header block: its bytes up to the first NUL. */
function field(block: Uint8Array, offset: number, length: number): string {
  const bytes = block.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return decoder.decode(end === -1 ? bytes : bytes.subarray(0, end));
}

/** The pax records of a header that starts with an 'x' block; each record's length is checked. */
function paxRecordsOf(header: Uint8Array): Map<string, string> {
  assert.equal(field(header, 156, 1), "x");
  const size = parseInt(field(header, 124, 12), 8);
  const body = header.subarray(512, 512 + size);
  const records = new Map<string, string>();
  for (let at = 0; at < body.length;) {
    const space = body.indexOf(0x20, at);
    const length = Number(decoder.decode(body.subarray(at, space)));
    const record = decoder.decode(body.subarray(space + 1, at + length));
    assert.ok(record.endsWith("\n"), `record at ${at} ends where its length says`);
    const equals = record.indexOf("=");
    records.set(record.slice(0, equals), record.slice(equals + 1, -1));
    at += length;
  }
  return records;
}

/** The ustar block of a header: always its last 512 bytes. */
function ustarOf(header: Uint8Array): Uint8Array {
  return header.subarray(header.length - 512);
}

function entry(overrides: Partial<TarEntry> = {}): TarEntry {
  return {
    path: "notes.txt",
    type: "file",
    size: 6,
    mode: 0o644,
    uid: 1000,
    gid: 1000,
    mtimeMs: 1e12,
    ...overrides,
  };
}

Deno.test("paddingAfter: zeros up to the next 512-byte boundary, none on one", () => {
  for (
    const [size, padding] of [[0, 0], [1, 511], [511, 1], [512, 0], [513, 511], [9663676416, 0]]
  ) {
    assert.equal(paddingAfter(size), padding, String(size));
  }
});

Deno.test("END_OF_ARCHIVE is two zero blocks", () => {
  assert.deepEqual(END_OF_ARCHIVE, new Uint8Array(1024));
});

Deno.test("octalField: zero-filled digits and a NUL; a value with too many digits throws", () => {
  assert.equal(octalField(0o755, 8), "0000755\0");
  assert.equal(octalField(0, 12), "00000000000\0");
  assert.equal(octalField(8 ** 11 - 1, 12), "77777777777\0");
  assert.equal(octalField(0o7777777, 8), "7777777\0");
  assert.throws(() => octalField(8 ** 11, 12), RangeError);
  assert.throws(() => octalField(0o10000000, 8), RangeError);
});

Deno.test("headerChecksum: the unsigned byte sum, with the checksum field counted as spaces", () => {
  const block = new Uint8Array(512);
  assert.equal(headerChecksum(block), 8 * 0x20);
  block[0] = 0xff;
  block[511] = 1;
  block.fill(0x37, 148, 156);
  assert.equal(headerChecksum(block), 8 * 0x20 + 0xff + 1);
});

Deno.test("a ustar header holds the checksum of itself, as six octal digits, NUL and space", () => {
  const header = tarHeader(entry());
  assert.equal(header.length, 512);
  const checksum = decoder.decode(header.subarray(148, 156));
  assert.match(checksum, /^[0-7]{6}\0 $/);
  assert.equal(parseInt(checksum, 8), headerChecksum(header));
});

Deno.test("a plain file is one ustar block with every field in place", () => {
  const header = tarHeader(entry({ uname: "ann", gname: "staff", mode: 0o100644 }));
  assert.equal(field(header, 0, 100), "notes.txt");
  assert.equal(field(header, 100, 8), "0000644", "the file type bits of a stat mode are dropped");
  assert.equal(field(header, 108, 8), "0001750");
  assert.equal(field(header, 116, 8), "0001750");
  assert.equal(field(header, 124, 12), "00000000006");
  assert.equal(field(header, 136, 12), "07346545000");
  assert.equal(field(header, 156, 1), "0");
  assert.equal(decoder.decode(header.subarray(257, 265)), "ustar\x0000");
  assert.equal(field(header, 265, 32), "ann");
  assert.equal(field(header, 297, 32), "staff");
  assert.equal(field(header, 345, 155), "");
});

Deno.test("a folder gets its trailing '/' and typeflag 5; a symlink typeflag 2 and its target", () => {
  const folder = tarHeader(entry({ path: "a/b", type: "directory", size: 0, mode: 0o1777 }));
  assert.equal(field(folder, 0, 100), "a/b/");
  assert.equal(field(folder, 156, 1), "5");
  assert.equal(field(folder, 100, 8), "0001777");
  const link = tarHeader(entry({ path: "latest", type: "symlink", size: 0, linkTarget: "../x" }));
  assert.equal(field(link, 156, 1), "2");
  assert.equal(field(link, 157, 100), "../x");
});

Deno.test("setuid, setgid and sticky bits stay in the mode field", () => {
  for (const mode of [0o4755, 0o2755, 0o1777, 0o0600, 0o7777]) {
    assert.equal(parseInt(field(tarHeader(entry({ mode })), 100, 8), 8), mode);
  }
});

Deno.test("splitUstarName: ASCII names up to 100 bytes as they are, longer ones at a '/' that fits", () => {
  assert.deepEqual(splitUstarName("a".repeat(100)), { name: "a".repeat(100), prefix: "" });
  assert.equal(splitUstarName("a".repeat(101)), undefined);
  const long = "p".repeat(155) + "/" + "n".repeat(100);
  assert.deepEqual(splitUstarName(long), { name: "n".repeat(100), prefix: "p".repeat(155) });
  assert.equal(splitUstarName("p".repeat(156) + "/n"), undefined, "prefix over 155 bytes");
  assert.equal(splitUstarName("p/" + "n".repeat(101)), undefined, "name over 100 bytes");
  assert.equal(
    splitUstarName("d".repeat(101) + "/"),
    undefined,
    "a folder's trailing '/' leaves no name",
  );
  assert.equal(splitUstarName("日本語"), undefined, "not ASCII");
});

Deno.test("a path that splits needs no pax header: the reader joins prefix and name", () => {
  const path = "x".repeat(120) + "/" + "y".repeat(90);
  const header = tarHeader(entry({ path }));
  assert.equal(header.length, 512);
  assert.equal(field(header, 345, 155) + "/" + field(header, 0, 100), path);
});

Deno.test("paxRecord: the length counts the whole record, its own digits included", () => {
  assert.equal(paxRecord("k", "abcd"), "9 k=abcd\n");
  assert.equal(paxRecord("k", "abcde"), "11 k=abcde\n", "10 would make 11 bytes: 9 to 10 digits");
  assert.equal(paxRecord("k", "a".repeat(93)), `99 k=${"a".repeat(93)}\n`);
  assert.equal(
    paxRecord("k", "a".repeat(94)),
    `101 k=${"a".repeat(94)}\n`,
    "100 would make 101 bytes: 99 to 100 digits",
  );
  assert.equal(paxRecord("path", "日"), "12 path=日\n", "bytes, not characters");
  for (let length = 0; length < 1100; length++) {
    const record = paxRecord("path", "a".repeat(length));
    assert.equal(encoder.encode(record).length, parseInt(record), `value of ${length} bytes`);
  }
});

Deno.test("paxMtime: whole seconds in range need no record; fractions, before 1970 and after 2242 do", () => {
  assert.deepEqual(paxMtime(1e12), { ustar: 1e9 });
  assert.deepEqual(paxMtime(0), { ustar: 0 });
  assert.deepEqual(paxMtime(Date.parse("2040-01-01T00:00:00.5Z")), {
    ustar: 2208988800,
    record: "2208988800.5",
  });
  assert.deepEqual(paxMtime(1.25), { ustar: 0, record: "0.00125" });
  assert.deepEqual(paxMtime(Date.parse("1960-01-01T00:00:00Z")), {
    ustar: 0,
    record: "-315619200",
  });
  assert.deepEqual(paxMtime(-1500), { ustar: 0, record: "-1.5" }, "-(1.5), as POSIX decimals read");
  assert.deepEqual(paxMtime((8 ** 11 - 1) * 1000), { ustar: 8 ** 11 - 1 });
  assert.deepEqual(paxMtime(8 ** 11 * 1000), { ustar: 8 ** 11 - 1, record: String(8 ** 11) });
});

Deno.test("pax records: exactly the values ustar cannot hold, and ustar gets a stand-in", () => {
  const path = "日本語/" + "😀".repeat(60);
  const header = tarHeader(entry({
    path,
    size: 8 ** 11,
    uid: 2097152,
    gid: 3000000,
    uname: "ünï",
    gname: "g".repeat(32),
    mtimeMs: -1500,
  }));
  assert.deepEqual(
    paxRecordsOf(header),
    new Map([
      ["path", path],
      ["size", "8589934592"],
      ["mtime", "-1.5"],
      ["uid", "2097152"],
      ["gid", "3000000"],
      ["uname", "ünï"],
      ["gname", "g".repeat(32)],
    ]),
  );
  assert.equal(header.length % 512, 0);
  assert.equal(field(header, 0, 100), "PaxHeaders/" + "_".repeat(60));
  assert.equal(parseInt(decoder.decode(header.subarray(148, 156)), 8), headerChecksum(header));
  const ustar = ustarOf(header);
  assert.equal(parseInt(decoder.decode(ustar.subarray(148, 156)), 8), headerChecksum(ustar));
  assert.equal(field(ustar, 0, 100), "___/" + "_".repeat(60));
  assert.equal(field(ustar, 108, 8), "7777777");
  assert.equal(field(ustar, 116, 8), "7777777");
  assert.equal(field(ustar, 124, 12), "00000000000");
  assert.equal(field(ustar, 136, 12), "00000000000");
  assert.equal(field(ustar, 265, 32), "");
});

Deno.test("values at the edge of ustar stay in ustar", () => {
  const header = tarHeader(entry({
    path: "a".repeat(100),
    size: 8 ** 11 - 1,
    uid: 2097151,
    gid: 2097151,
    uname: "u".repeat(31),
    gname: "g".repeat(31),
    mtimeMs: (8 ** 11 - 1) * 1000,
  }));
  assert.equal(header.length, 512);
  assert.equal(field(header, 124, 12), "77777777777");
});

Deno.test("a long or non-ASCII link target goes in a pax linkpath record", () => {
  const linkTarget = "../" + "t".repeat(98);
  const header = tarHeader(entry({ path: "l", type: "symlink", size: 0, linkTarget }));
  assert.deepEqual(paxRecordsOf(header), new Map([["linkpath", linkTarget]]));
  assert.equal(field(ustarOf(header), 157, 100), linkTarget.slice(0, 100));
  const unicode = tarHeader(entry({ path: "l", type: "symlink", size: 0, linkTarget: "café" }));
  assert.deepEqual(paxRecordsOf(unicode), new Map([["linkpath", "café"]]));
  assert.equal(
    tarHeader(entry({ path: "l", type: "symlink", size: 0, linkTarget: "t".repeat(100) })).length,
    512,
  );
});

Deno.test("a folder's pax path keeps its trailing '/'; a long ASCII name falls back to its tail", () => {
  const path = "d".repeat(200);
  const header = tarHeader(entry({ path, type: "directory", size: 0 }));
  assert.equal(paxRecordsOf(header).get("path"), path + "/");
  assert.equal(field(ustarOf(header), 0, 100), "d".repeat(99) + "/");
  assert.equal(field(ustarOf(header), 156, 1), "5");
});

Deno.test("entries no reader could extract safely are refused, saying why", () => {
  const refused: [Partial<TarEntry>, string][] = [
    [{ path: "" }, "the path is empty"],
    [{ path: "/etc/passwd" }, "the path is absolute"],
    [{ path: "a\0b" }, "the path contains a NUL byte"],
    [{ path: ".." }, "the path has a '..' component"],
    [{ path: "../a" }, "the path has a '..' component"],
    [{ path: "a/../../b" }, "the path has a '..' component"],
    [{ path: "a/.." }, "the path has a '..' component"],
    [{ path: "a//b" }, "the path has an empty component"],
    [{ path: "a/" }, "the path has an empty component"],
    [{ type: "symlink", size: 0 }, "a symlink needs a link target"],
    [{ type: "symlink", size: 0, linkTarget: "a\0" }, "the link target contains a NUL byte"],
    [{ linkTarget: "x" }, "a file has no link target"],
    [{ type: "directory", size: 1 }, "a directory has no content"],
    [{ size: -1 }, "the size -1 is not a whole number of bytes"],
    [{ size: 1.5 }, "the size 1.5 is not a whole number of bytes"],
    [{ uid: -1 }, "the uid -1 is invalid"],
    [{ uname: "a\0" }, "the uname contains a NUL byte"],
    [{ mtimeMs: NaN }, "the mtime NaN is not a time"],
  ];
  for (const [overrides, problem] of refused) {
    const refusedEntry = entry(overrides);
    assert.equal(entryProblem(refusedEntry), problem, JSON.stringify(overrides));
    assert.throws(() => tarHeader(refusedEntry), {
      message: `cannot archive '${refusedEntry.path}': ${problem}`,
    });
  }
  for (const path of ["..a", "a..", "a/...", ".hidden", "./a"]) {
    assert.equal(entryProblem(entry({ path })), undefined, path);
  }
});

// End to end: archives made with tarHeader, read back by GNU tar and bsdtar.

/** An entry and the content that follows its header. */
type Archived = TarEntry & { content: Uint8Array };

const MTIME = Date.parse("2024-05-06T07:08:09Z");

function archivedFile(path: string, text: string, overrides: Partial<TarEntry> = {}): Archived {
  const content = encoder.encode(text);
  return {
    ...entry({ path, mtimeMs: MTIME, uid: 0, gid: 0 }),
    size: content.length,
    content,
    ...overrides,
  };
}

function archivedFolder(path: string, overrides: Partial<TarEntry> = {}): Archived {
  return {
    ...entry({ path, type: "directory", size: 0, mode: 0o755, mtimeMs: MTIME, uid: 0, gid: 0 }),
    content: new Uint8Array(0),
    ...overrides,
  };
}

function archivedSymlink(path: string, linkTarget: string): Archived {
  return {
    ...entry({ path, type: "symlink", size: 0, mode: 0o777, mtimeMs: MTIME, uid: 0, gid: 0 }),
    linkTarget,
    content: new Uint8Array(0),
  };
}

/** 10 + 120 bytes: Japanese, then emoji, each character several UTF-8 bytes. */
const UNICODE_FOLDER = "日本語/" + "😀".repeat(30);
/** 250 bytes in all, one entry: no ustar split could hold it, and it is not ASCII. */
const UNICODE_PATH = `${UNICODE_FOLDER}/${"文".repeat(39)}xx`;

const ENTRIES: Archived[] = [
  archivedFolder("日本語"),
  archivedFolder(UNICODE_FOLDER),
  archivedFile(UNICODE_PATH, "a long unicode path\n", { mode: 0o600 }),
  archivedFolder("empty", { mode: 0o700 }),
  archivedFolder("shared", { mode: 0o1777 }),
  archivedFile("setuid-tool", "#!/bin/sh\n", { mode: 0o4755 }),
  archivedSymlink("link", UNICODE_PATH),
  archivedFile("future", "2040\n", { mtimeMs: Date.parse("2040-01-01T00:00:00.5Z") }),
  archivedFile("past", "1960\n", { mtimeMs: Date.parse("1960-01-01T00:00:00Z") }),
  archivedFile("owned", "big ids\n", { uid: 3000000, gid: 3000001, uname: "ünï" }),
];

async function writeArchive(file: string, entries: Archived[]): Promise<void> {
  using archive = await Deno.open(file, { write: true, create: true, truncate: true });
  for (const { content, ...archived } of entries) {
    await archive.write(tarHeader(archived));
    await archive.write(content);
    await archive.write(new Uint8Array(paddingAfter(content.length)));
  }
  await archive.write(END_OF_ARCHIVE);
}

/** Every path below `root`, '/'-separated and relative, folders included. */
async function treeBelow(root: string, under = ""): Promise<string[]> {
  const paths: string[] = [];
  for await (const item of Deno.readDir(join(root, under))) {
    const path = under === "" ? item.name : `${under}/${item.name}`;
    paths.push(path);
    if (item.isDirectory) paths.push(...await treeBelow(root, path));
  }
  return paths.sort();
}

const TARS = {
  "GNU tar": { program: "tar", extract: ["-x", "--same-permissions", "--same-owner", "-f"] },
  bsdtar: { program: "bsdtar", extract: ["-x", "-p", "--same-owner", "-f"] },
};

withTars.test("GNU tar and bsdtar list every name whole: 250 unicode bytes, folders with '/'", async () => {
  assert.equal(encoder.encode(UNICODE_PATH).length, 250);
  await using dir = await tempDir();
  const archive = join(dir.path, "entries.tar");
  await writeArchive(archive, ENTRIES);
  const expected = ENTRIES.map((e) => e.type === "directory" ? e.path + "/" : e.path);
  for (const [tool, { program }] of Object.entries(TARS)) {
    const listed = decoder.decode(await run(program, ["-tf", archive])).split("\n").slice(0, -1);
    assert.deepEqual(listed, expected, tool);
    const owned = decoder.decode(await run(program, ["-tvf", archive, "owned"]));
    assert.match(owned, /ünï/, `${tool} reads the pax uname`);
  }
});

asRootWithTars.test(
  "GNU tar and bsdtar extract names, types, link targets, modes, owners and mtimes as archived",
  async () => {
    await using dir = await tempDir();
    const archive = join(dir.path, "entries.tar");
    await writeArchive(archive, ENTRIES);
    for (const [tool, { program, extract }] of Object.entries(TARS)) {
      const out = join(dir.path, program);
      await Deno.mkdir(out);
      await run(program, [...extract, archive, "-C", out]);
      assert.deepEqual(await treeBelow(out), ENTRIES.map((e) => e.path).sort(), tool);
      for (const archived of ENTRIES) {
        const where = `${tool}: ${archived.path}`;
        const path = join(out, archived.path);
        const info = await Deno.lstat(path);
        assert.equal(info.isFile, archived.type === "file", where);
        assert.equal(info.isDirectory, archived.type === "directory", where);
        assert.equal(info.isSymlink, archived.type === "symlink", where);
        // Linux gives every symlink mode 0777, whatever the archive says.
        if (archived.type !== "symlink") assert.equal(info.mode! & 0o7777, archived.mode, where);
        assert.equal(info.uid, archived.uid, where);
        assert.equal(info.gid, archived.gid, where);
        assert.equal(info.mtime?.getTime(), archived.mtimeMs, where);
        if (archived.type === "symlink") {
          assert.equal(await Deno.readLink(path), archived.linkTarget);
        }
        if (archived.type === "file") assert.deepEqual(await Deno.readFile(path), archived.content);
      }
    }
  },
);

withTars.test("GNU tar reads a fractional mtime before 1970 as the plain decimal POSIX means", async () => {
  // bsdtar (libarchive 3.6) reads "-1.25" as -1 + 0.25 s; no spelling suits both, so POSIX wins.
  await using dir = await tempDir();
  const archive = join(dir.path, "old.tar");
  const old = archivedFile("old", "", { mtimeMs: Date.parse("1960-01-01T00:00:00Z") - 1250 });
  await writeArchive(archive, [old]);
  await run("tar", ["-x", "-f", archive, "-C", dir.path]);
  assert.equal((await Deno.lstat(join(dir.path, "old"))).mtime?.getTime(), old.mtimeMs);
});

withTars.test(
  "GNU tar and bsdtar read a 9 GiB size from pax and find the entry after its content",
  async () => {
    const size = 9 * 1024 ** 3;
    await using dir = await tempDir();
    const head = join(dir.path, "head");
    await Deno.writeFile(head, tarHeader(entry({ path: "big", size })));
    const tail = join(dir.path, "tail");
    await writeArchive(tail, [archivedFile("after", "after\n")]);
    for (const [tool, { program }] of Object.entries(TARS)) {
      // Streamed, as a backup is, and from /dev/zero, so no disk holds the 9 GiB. Had the reader
      // skipped a wrong length, it would land in the zeros, take them for the end of the
      // archive and never list "after".
      const listing = decoder.decode(
        await run("sh", [
          "-c",
          '{ cat "$1"; head -c "$2" /dev/zero; cat "$3"; } | "$4" -tvf -',
          "sh",
          head,
          String(size),
          tail,
          program,
        ]),
      ).split("\n").slice(0, -1);
      assert.equal(listing.length, 2, `${tool}: ${listing.join("\n")}`);
      assert.match(listing[0], /\s9663676416\s.*\sbig$/, tool);
      assert.match(listing[1], /\safter$/, tool);
    }
  },
);
