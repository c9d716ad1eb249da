/** The pure parts of the PostgreSQL source: messages, versions, passwords, what a dump varies in. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { HeadMaskedHash, LineMaskedHash } from "../../lib/sources/identity.ts";
import {
  CUSTOM_HEAD_BYTES,
  customArchiveTime,
  restrictKeyMasked,
} from "../../lib/sources/postgres/pg_dump_format.ts";
import {
  carriesPassword,
  clientMajorVersion,
  connectionProblemOf,
  isConnectionString,
  serverMajorVersion,
  versionText,
} from "../../lib/sources/postgres/pg_messages.ts";

Deno.test("connectionProblemOf reads psql's and pg_dump's failures", () => {
  assert.equal(
    connectionProblemOf(
      'psql: error: connection to server at "x" failed: FATAL:  database "nope" does not exist',
    ),
    "no such database",
  );
  assert.equal(
    connectionProblemOf('FATAL:  password authentication failed for user "me"'),
    "authentication",
  );
  assert.equal(connectionProblemOf("fe_sendauth: no password supplied"), "authentication");
  assert.equal(
    connectionProblemOf('connection to server at "127.0.0.1", port 1 failed: Connection refused'),
    "unreachable",
  );
  assert.equal(connectionProblemOf("ERROR:  syntax error"), undefined);
});

Deno.test("versions: client and server majors, old and new numbering", () => {
  assert.equal(clientMajorVersion("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"), 15);
  assert.equal(clientMajorVersion("pg_dump (PostgreSQL) 9.6.24"), 906);
  assert.equal(clientMajorVersion("something else"), undefined);
  assert.equal(serverMajorVersion("150018"), 15);
  assert.equal(serverMajorVersion("90624"), 906);
  assert.equal(serverMajorVersion("oops"), undefined);
  assert.equal(versionText(906), "9.6");
  assert.equal(versionText(17), "17");
});

Deno.test("carriesPassword finds a password in a URI or keywords, and only there", () => {
  assert.equal(carriesPassword("postgresql://me:secret@db/app"), true);
  assert.equal(carriesPassword("postgres://db/app?password=secret"), true);
  assert.equal(carriesPassword("host=db password=secret dbname=app"), true);
  assert.equal(carriesPassword("postgresql://me@db:5433/app"), false);
  assert.equal(carriesPassword("postgresql://db/app?sslmode=require"), false);
  assert.equal(carriesPassword("app"), false);
  assert.equal(isConnectionString("app"), false);
  assert.equal(isConnectionString("host=db dbname=app"), true);
  assert.equal(isConnectionString("postgresql://db/app"), true);
});

/** A custom-format header as pg_dump 15 (archive 1.14) writes it, with a creation time. */
function customHead(minor: number, seconds: number): Uint8Array {
  const int = (n: number) => [0, n & 0xff, 0, 0, 0];
  return new Uint8Array([
    ...new TextEncoder().encode("PGDMP"),
    1,
    minor,
    0,
    4,
    8,
    1,
    ...(minor >= 15 ? [0] : int(0)),
    ...int(seconds),
    ...int(10),
    ...int(17),
    ...int(2),
    ...int(11),
    ...int(126),
    ...int(0),
    ...new TextEncoder().encode("app\0 and the rest of the archive"),
  ]);
}

Deno.test("customArchiveTime: the seven ints of the creation time, before and since archive 1.15", () => {
  assert.deepEqual(customArchiveTime(customHead(14, 5)), [{ offset: 16, length: 35 }]);
  assert.deepEqual(customArchiveTime(customHead(15, 5)), [{ offset: 12, length: 35 }]);
  assert.deepEqual(customArchiveTime(new TextEncoder().encode("-- plain SQL")), []);
});

Deno.test("HeadMaskedHash: dumps that differ only in their time are one identity, in any chunking", () => {
  const identity = (bytes: Uint8Array, cut: number) => {
    const hash = new HeadMaskedHash(customArchiveTime, CUSTOM_HEAD_BYTES);
    hash.update(bytes.subarray(0, cut));
    hash.update(bytes.subarray(cut));
    return hash.digest();
  };
  const [a, b] = [customHead(14, 5), customHead(14, 6)];
  assert.equal(identity(a, 3), identity(b, 70));
  assert.equal(identity(a, 0), identity(b, a.length));
  const other = customHead(14, 5);
  other[other.length - 1] ^= 1;
  assert.notEqual(identity(a, 10), identity(other, 10));
  const plain = new TextEncoder().encode("not a custom archive");
  assert.equal(identity(plain, 5), createHash("sha256").update(plain).digest("hex"));
});

Deno.test("LineMaskedHash with restrictKeyMasked: only the random \\restrict keys are left out", () => {
  const identity = (text: string, cut: number) => {
    const hash = new LineMaskedHash(restrictKeyMasked);
    const bytes = new TextEncoder().encode(text);
    hash.update(bytes.subarray(0, cut));
    hash.update(bytes.subarray(cut));
    return hash.digest();
  };
  const dump = (key: string, role: string) =>
    `--\n\\restrict ${key}\n\nCREATE ROLE ${role};\n\\unrestrict ${key}\n`;
  assert.equal(identity(dump("abc123", "a"), 7), identity(dump("XYZ987", "a"), 20));
  assert.notEqual(identity(dump("abc123", "a"), 7), identity(dump("abc123", "b"), 7));
  assert.equal(restrictKeyMasked("\\restrict abc\n"), "\\restrict\n");
  assert.equal(restrictKeyMasked("\\unrestrict abc"), "\\unrestrict");
  assert.equal(restrictKeyMasked("-- \\restrict abc\n"), undefined);
});
