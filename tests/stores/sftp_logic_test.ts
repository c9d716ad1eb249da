/** The pure parts of the SFTP store: its URLs, and the protocol's packets. */
import assert from "node:assert/strict";
import { UsageError } from "../../lib/errors.ts";
import {
  FXP,
  packet,
  PacketSplitter,
  Reader,
  S_IFREG,
} from "../../lib/stores/sftp/sftp_protocol.ts";
import { isSftpUrl, parseSftpUrl } from "../../lib/stores/sftp/sftp_url.ts";

Deno.test("parseSftpUrl: an absolute folder, one in the home, a port, an alias, %-escapes", () => {
  assert.deepEqual(parseSftpUrl("sftp://backup@nas.local/srv/backups/"), {
    host: { destination: "backup@nas.local" },
    path: "/srv/backups",
    location: "sftp://backup@nas.local/srv/backups",
  });
  assert.deepEqual(parseSftpUrl("sftp://nas/~/backups").path, "~/backups");
  assert.deepEqual(parseSftpUrl("sftp://me@[::1]:2222/b").host, {
    destination: "me@::1",
    port: 2222,
  });
  assert.equal(parseSftpUrl("sftp://nas/my%20backups/%E6%97%A5").path, "/my backups/日");
  assert.ok(isSftpUrl("SFTP://nas/x"));
  assert.ok(!isSftpUrl("/srv/sftp://x"));
});

Deno.test("parseSftpUrl: what it refuses, as bad input", () => {
  for (
    const bad of [
      "sftp://",
      "sftp://nas",
      "sftp://nas/",
      "sftp://nas/~",
      "sftp://-oProxyCommand=x/srv",
      "sftp://a b/srv",
      "sftp://nas/srv/../etc",
      "sftp://nas/srv/./x",
      "sftp://nas/srv/%0Ax",
      "sftp://nas/bad%zz",
    ]
  ) {
    assert.throws(() => parseSftpUrl(bad), UsageError, bad);
  }
  // A password is refused, and not repeated where a log would keep it.
  assert.throws(
    () => parseSftpUrl("sftp://me:s3cret@nas/srv"),
    (error: Error) =>
      error instanceof UsageError && /has a password in it/.test(error.message) &&
      !error.message.includes("s3cret"),
  );
  assert.equal(parseSftpUrl("sftp://me@[::1]:2222/b").path, "/b", "a port is not a password");
});

Deno.test("packet: length, type, then numbers, 64-bit offsets, strings and attributes", () => {
  const bytes = packet(FXP.WRITE, 7, new Uint8Array([1, 2]), BigInt(2 ** 40), "é");
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(0), bytes.length - 4);
  assert.equal(bytes[4], FXP.WRITE);
  const body = new Reader(bytes.subarray(5));
  assert.equal(body.u32(), 7);
  assert.deepEqual([...body.bytesField()], [1, 2]);
  assert.equal(body.u64(), 2 ** 40);
  assert.equal(body.string(), "é");
  assert.ok(body.done);
  const attrs = new Reader(packet(FXP.MKDIR, { permissions: 0o700 }).subarray(5));
  assert.deepEqual(attrs.attrs(), { permissions: 0o700 });
  const times = new Reader(packet(FXP.FSETSTAT, { mtime: 1796286901 }).subarray(5));
  assert.deepEqual(times.attrs(), { mtime: 1796286901 }, "atime and mtime, both set");
  assert.ok(times.done);
  assert.deepEqual(new Reader(packet(FXP.MKDIR, {}).subarray(5)).attrs(), {});
});

Deno.test("Reader.attrs: size, owner, mode and mtime, with extended pairs skipped", () => {
  const u32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  const bytes = new Uint8Array([
    ...u32(0x1 | 0x2 | 0x4 | 0x8 | 0x80000000),
    ...u32(0),
    ...u32(5000), // size, as uint64
    ...u32(1000),
    ...u32(100),
    ...u32(S_IFREG | 0o400),
    ...u32(1),
    ...u32(1796286901),
    ...u32(1),
    ...u32(1),
    120,
    ...u32(1),
    121,
  ]);
  assert.deepEqual(new Reader(bytes).attrs(), {
    size: 5000,
    uid: 1000,
    gid: 100,
    permissions: S_IFREG | 0o400,
    mtime: 1796286901,
  });
  assert.throws(() => new Reader(new Uint8Array([0, 0])).u32(), /cut short/);
});

Deno.test("PacketSplitter: packets split anywhere arrive whole; a shell's greeting is refused", () => {
  const a = packet(FXP.STATUS, 1, 0);
  const b = packet(FXP.DATA, 2, new Uint8Array(1000));
  const stream = new Uint8Array([...a, ...b]);
  for (const cut of [1, 4, 5, a.length, a.length + 3, stream.length - 1]) {
    const splitter = new PacketSplitter();
    const got = [...splitter.add(stream.subarray(0, cut)), ...splitter.add(stream.subarray(cut))];
    assert.deepEqual(got.map((p) => [p.type, p.body.length]), [[FXP.STATUS, 8], [FXP.DATA, 1008]]);
  }
  assert.throws(
    () => [...new PacketSplitter().add(new TextEncoder().encode("Welcome to the host!\n"))],
    /not an SFTP reply/,
  );
});
