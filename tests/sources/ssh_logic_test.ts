/** The pure parts of --ssh: destinations, the remote command line, ssh's and tar's messages, listings. */
import assert from "node:assert/strict";
import { compileExcludes, type Exclude } from "../../lib/sources/folder/exclude.ts";
import {
  findMessage,
  type Listed,
  ListingFilter,
  parseRecord,
} from "../../lib/sources/remote/folder_listing.ts";
import {
  describeHost,
  parseSshDestination,
  remoteCommandLine,
  sameHost,
  sshArgv,
  sshCommandText,
  sshProblemOf,
} from "../../lib/ssh/ssh_host.ts";
import { tarNote } from "../../lib/sources/remote/tar_messages.ts";
import { isSourceSpec, sameSpec, type SourceSpec } from "../../lib/sources/source_spec.ts";

Deno.test("parseSshDestination: [user@]host[:port], IPv6 in brackets; nothing ssh would read as an option", () => {
  assert.deepEqual(parseSshDestination("db1"), { destination: "db1" });
  assert.deepEqual(parseSshDestination("backup@db1.example.com"), {
    destination: "backup@db1.example.com",
  });
  assert.deepEqual(parseSshDestination("me@10.0.0.5:2222"), {
    destination: "me@10.0.0.5",
    port: 2222,
  });
  assert.deepEqual(parseSshDestination("[::1]:2222"), { destination: "::1", port: 2222 });
  assert.deepEqual(parseSshDestination("me@[fe80::1]"), { destination: "me@fe80::1" });
  for (
    const bad of [
      "",
      "-oProxyCommand=touch /tmp/x",
      "host:0",
      "host:65536",
      "host:",
      "a b",
      "user@",
      "@host",
      "a@b@c",
      "host\n",
      "::1",
    ]
  ) {
    assert.equal(parseSshDestination(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("describeHost and sshCommandText: as the user gave it, and as they would type it", () => {
  assert.equal(describeHost({ destination: "db1" }), "db1");
  assert.equal(describeHost({ destination: "me@db1", port: 2222 }), "me@db1:2222");
  assert.equal(describeHost({ destination: "::1", port: 22 }), "[::1]:22");
  assert.equal(
    sshCommandText({ destination: "me@db1", port: 2222, config: "/etc/my ssh" }),
    "ssh -F '/etc/my ssh' -p 2222 me@db1",
  );
  assert.equal(sshCommandText({ destination: "db1" }, true), "ssh -o BatchMode=yes db1");
});

Deno.test("sshArgv: batch mode, strict host keys, keep-alives and a timeout; the destination after --", () => {
  const argv = sshArgv({ destination: "me@db1", port: 2222, config: "/c" }, ["pg_dump", "app"]);
  assert.equal(argv[0], "ssh");
  for (
    const option of [
      "BatchMode=yes",
      "StrictHostKeyChecking=yes",
      "ConnectTimeout=10",
      "ServerAliveInterval=15",
    ]
  ) {
    assert.ok(argv.includes(option), option);
  }
  assert.deepEqual(argv.slice(-7, -1), ["-F", "/c", "-p", "2222", "--", "me@db1"]);
  assert.equal(argv.at(-1), "'pg_dump' 'app'");
});

Deno.test("remoteCommandLine: the remote shell reads back every word and variable exactly", async () => {
  const words = ["printf", "%s\\0", "it's", "a b", "$HOME", "`id`", "x;y", "new\nline", "*", ""];
  const env = { PGHOST: "/run/pg sock's", PGPORT: "5433" };
  const line = remoteCommandLine(
    ["sh", "-c", 'printf "%s|%s\\0" "$PGHOST" "$PGPORT"; shift 0; "$@"', "sh", ...words],
    env,
  );
  const { stdout } = await new Deno.Command("/bin/sh", { args: ["-c", line], stdout: "piped" })
    .output();
  assert.deepEqual(new TextDecoder().decode(stdout).split("\0"), [
    "/run/pg sock's|5433",
    ...words.slice(2),
    "",
  ]);
  assert.equal(remoteCommandLine(["true"], {}), "'true'");
});

Deno.test("sshProblemOf: ssh's own messages, by what to do about them", () => {
  assert.equal(
    sshProblemOf(
      "No ED25519 host key is known for [127.0.0.1]:22022 and you have requested strict checking.\nHost key verification failed.",
    ),
    "host key",
  );
  assert.equal(
    sshProblemOf("@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"),
    "host key",
  );
  assert.equal(sshProblemOf("root@127.0.0.1: Permission denied (publickey)."), "login refused");
  assert.equal(
    sshProblemOf("ssh: connect to host 127.0.0.1 port 22023: Connection refused"),
    "unreachable",
  );
  assert.equal(
    sshProblemOf("ssh: Could not resolve hostname nosuch.invalid: Name or service not known"),
    "unreachable",
  );
  assert.equal(sshProblemOf("Timeout, server db1 not responding."), "lost");
  assert.equal(sshProblemOf("Connection to 127.0.0.1 closed by remote host."), "lost");
  assert.equal(sshProblemOf("something else"), undefined);
});

Deno.test("sameHost, isSourceSpec, sameSpec: the host is part of what a job backs up", () => {
  assert.ok(sameHost(undefined, undefined));
  assert.ok(sameHost({ destination: "a", port: 22 }, { destination: "a", port: 22 }));
  assert.ok(!sameHost({ destination: "a" }, { destination: "a", port: 22 }));
  assert.ok(!sameHost({ destination: "a" }, undefined));
  const folder: SourceSpec = { kind: "folder", path: "/srv/www", exclude: [], split: false };
  const remote: SourceSpec = {
    ...folder,
    ssh: { destination: "web1", port: 2222, config: "/etc/c" },
  };
  assert.ok(isSourceSpec(remote));
  assert.ok(!isSourceSpec({ ...folder, ssh: { destination: "-oX" } }));
  assert.ok(!isSourceSpec({ ...folder, ssh: { destination: "web1", port: 0 } }));
  assert.ok(!isSourceSpec({ ...folder, ssh: { destination: "web1", config: "relative" } }));
  assert.ok(!isSourceSpec({ kind: "file", path: "/a", ssh: { destination: "web1" } }));
  assert.ok(!sameSpec(folder, remote));
  assert.ok(sameSpec(remote, structuredClone(remote)));
  assert.ok(isSourceSpec({ ...folder, ssh: { destination: "::1", port: 2222 } }), "IPv6, as kept");
  assert.ok(isSourceSpec({ ...folder, ssh: { destination: "me@fe80::1" } }));
  const db = (path: string): SourceSpec => ({ kind: "sqlite", path, ssh: { destination: "db1" } });
  assert.ok(!sameSpec(db("/srv/a.db"), db("/srv/b.db")), "two databases on one host differ");
  assert.ok(sameSpec(db("/srv/a.db"), db("/srv/a.db")));
});

const entries = (...lines: string[]): Listed[] => lines.map((line) => parseRecord(line)!);

function judged(exclude: Exclude, listing: Listed[]) {
  const filter = new ListingFilter(exclude);
  const kept: string[] = [];
  const leftOut: string[] = [];
  for (const entry of listing) {
    const verdict = filter.judge(entry);
    if (verdict.keep) kept.push(entry.path);
    else if (verdict.leftOut) leftOut.push(verdict.leftOut);
  }
  return { kept, leftOut };
}

Deno.test("ListingFilter: an excluded folder goes with all it holds; names matched as for a local folder", () => {
  const exclude = compileExcludes(["*.log", "cache/", "build/*.o"]) as Exclude;
  const listing = entries(
    "./a.log\x01f",
    "./build\x01d",
    "./build/main.o\x01f",
    "./build/sub\x01d",
    "./build/sub/x.o\x01f",
    "./cache\x01d",
    "./cache/deep\x01d",
    "./cache/deep/file\x01f",
    "./cache-not\x01f",
    "./src\x01d",
    "./src/cache\x01f",
    "./src/logs\x01d",
    "./src/logs/today.log\x01f",
  );
  assert.deepEqual(judged(exclude, listing), {
    kept: ["build", "build/sub", "build/sub/x.o", "cache-not", "src", "src/cache", "src/logs"],
    leftOut: [],
  });
});

Deno.test("ListingFilter: names that are not UTF-8 and entries tar cannot store are left out and said", () => {
  const exclude = compileExcludes([]) as Exclude;
  const listing = entries(
    "./bad\uFFFDname\x01d",
    "./bad\uFFFDname/inside\x01f",
    "./fifo\x01p",
    "./ok\x01f",
    "./socket\x01s",
    "./link\x01l",
  );
  assert.deepEqual(judged(exclude, listing), {
    kept: ["ok", "link"],
    leftOut: [
      "bad\uFFFDname (its name is not valid UTF-8)",
      "fifo (not a file, folder or link: a device, FIFO or socket)",
      "socket (not a file, folder or link: a device, FIFO or socket)",
    ],
  });
});

Deno.test("parseRecord: the path and the type, however the name looks", () => {
  assert.deepEqual(parseRecord("./a\x01b\x01f"), { path: "a\x01b", type: "f" });
  assert.deepEqual(parseRecord("./dir/with\nnewline\x01d"), {
    path: "dir/with\nnewline",
    type: "d",
  });
  assert.equal(parseRecord("no-marker"), undefined);
  assert.equal(parseRecord("/abs\x01f"), undefined);
});

Deno.test("findMessage: a vanished or unreadable entry; anything else is not understood", () => {
  assert.equal(
    findMessage("find: './private': Permission denied"),
    "private (permission denied)",
  );
  assert.equal(
    findMessage("find: ‘./gone/sub’: No such file or directory"),
    "gone/sub (it vanished while the folder was read)",
  );
  assert.equal(findMessage("find: invalid argument"), undefined);
});

Deno.test("tarNote: GNU tar's messages about changed, shrunk, vanished and unreadable files", () => {
  const root = "www";
  assert.deepEqual(tarNote("tar: www/big: file changed as we read it", root), {
    kind: "changed",
    path: "big",
  });
  assert.deepEqual(
    tarNote("tar: www/a/b: File shrank by 84068096 bytes; padding with zeros", root),
    { kind: "changed", path: "a/b" },
  );
  assert.deepEqual(
    tarNote("tar: www/gone: Warning: Cannot stat: No such file or directory", root),
    { kind: "left out", path: "gone", reason: "it vanished while the folder was read" },
  );
  assert.deepEqual(tarNote("tar: www/x: File removed before we read it", root), {
    kind: "left out",
    path: "x",
    reason: "it vanished while the folder was read",
  });
  assert.deepEqual(tarNote("tar: www/k: Warning: Cannot open: Permission denied", root), {
    kind: "left out",
    path: "k",
    reason: "permission denied",
  });
  assert.deepEqual(tarNote("tar: www/a: b: file changed as we read it", root), {
    kind: "changed",
    path: "a: b",
  });
  assert.deepEqual(
    tarNote("tar: Exiting with failure status due to previous errors", root),
    { kind: "summary" },
  );
  assert.equal(tarNote("tar: other/x: file changed as we read it", root), undefined);
  assert.equal(tarNote("tar: www/x: Cannot write: Broken pipe", root), undefined);
  assert.equal(tarNote("something else", root), undefined);
});
