/**
 * Encrypted backups: what tinybackup encrypts, Debian's age decrypts (and
 * gunzip or zstd -d undoes); what the storage holder sees tells no source,
 * checksum or content; damage anywhere is reported and never restored.
 */
import assert from "node:assert/strict";
import { emptyQueue, queued, runScript, takeJob } from "../_at_queue.ts";
import { needs, programs, ROOT } from "../_requires.ts";
import { typeOnTerminal } from "../_terminal.ts";
import {
  commandLine,
  run,
  sameBytes,
  tempDir,
  textBytes,
  tinybackup,
  visibleFiles,
} from "./_cli.ts";

const gate = await needs("cli/encryption_test.ts", programs("age", "age-keygen", "script"));
const asRoot = await needs(
  "cli/encryption_test.ts (other hosts)",
  programs("age-keygen", "unshare"),
  ROOT,
);

/** A test folder with a private state folder (the tag key lives there) and one age key. */
async function setUp() {
  const dir = await tempDir();
  const key = `${dir.path}/key.txt`;
  await run("age-keygen", ["-o", key]);
  const recipient = /age1[0-9a-z]+/.exec(await Deno.readTextFile(key))![0];
  const env = { XDG_STATE_HOME: `${dir.path}/state` };
  const backUp = (args: string[]) =>
    tinybackup(["--dest", `${dir.path}/b`, "--lock-wait", "0", ...args], { env });
  return { dir, path: dir.path, key, recipient, env, backUp };
}

/** Random bytes (incompressible, so the layout of age chunks is known), with a marker. */
function secretContent(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  bytes.set(new TextEncoder().encode(MARKER), Math.floor(size / 2));
  return bytes;
}
const MARKER = "the launch code is 0000";
/** The at queue letter of this file's jobs (each test file has its own). */
const QUEUE = "q";

for (
  const [compression, suffix, undo] of [
    ["gzip", ".gz.age", ["gunzip", "-c"]],
    ["zstd", ".zst.age", ["zstd", "-dc"]],
    ["none", ".age", ["cat"]],
  ] as const
) {
  gate.test(`an encrypted ${compression} backup is undone by age -d, then ${undo[0]}; of text and of random bytes`, async () => {
    const t = await setUp();
    await using _ = t.dir;
    // Random bytes over 2 MiB are sealed on a thread of their own where no compressor sets the pace.
    for (const content of [textBytes(30_000), secretContent(5 * 1024 * 1024 + 7)]) {
      await Deno.writeFile(`${t.path}/app.db`, content);
      const r = await t.backUp([
        "--file",
        `${t.path}/app.db`,
        "--compress",
        compression,
        "--recipient",
        t.recipient,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const backup = r.stdout.trim();
      assert.ok(backup.startsWith(`${t.path}/b/app.db.`) && backup.endsWith(suffix), backup);
      const decrypted = await run("age", ["-d", "-i", t.key, backup]);
      const [program, ...args] = undo;
      assert.ok(sameBytes(await run(program, [...args], decrypted), content));
      const verify = await tinybackup(["verify", "--dest", `${t.path}/b`, "-i", t.key]);
      assert.equal(verify.code, 0, verify.stderr);
    }
  });
}

gate.test("restore and verify --identity read an encrypted backup; without it, verify checks the stored bytes", async () => {
  const t = await setUp();
  await using _ = t.dir;
  const content = textBytes(20_000);
  await Deno.writeFile(`${t.path}/app.db`, content);
  await Deno.chmod(`${t.path}/app.db`, 0o640);
  const backup = (await t.backUp(["--file", `${t.path}/app.db`, "--recipient", t.recipient])).stdout
    .trim();
  const restored = await tinybackup([
    "restore",
    backup,
    "--identity",
    t.key,
    "--to",
    `${t.path}/out.db`,
  ]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(restored.stdout, `${t.path}/out.db\n`);
  assert.ok(sameBytes(await Deno.readFile(`${t.path}/out.db`), content));
  assert.equal(
    Deno.statSync(`${t.path}/out.db`).mode! & 0o777,
    0o640,
    "the source's mode, from the sealed metadata",
  );
  const toStdout = await tinybackup(["restore", backup, "-i", t.key, "--to", "-"]);
  assert.equal(toStdout.code, 0, toStdout.stderr);
  assert.ok(sameBytes(toStdout.bytes, content));

  const full = await tinybackup(["verify", "--dest", `${t.path}/b`, "-i", t.key]);
  assert.equal(full.code, 0, full.stderr);
  assert.equal(full.stdout, `ok   ${backup}\n`);
  const storedOnly = await tinybackup(["verify", "--dest", `${t.path}/b`]);
  assert.equal(storedOnly.code, 0, storedOnly.stderr);
  assert.match(storedOnly.stderr, /only the stored bytes/);

  const noKey = await tinybackup(["restore", backup, "--to", `${t.path}/x.db`]);
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /error: .* is encrypted\n.*hint: pass --identity/);
  assert.equal(noKey.stdout, "");
});

gate.test("list, prune and verify --file find an encrypted series without its key; list --json seals the checksum", async () => {
  const t = await setUp();
  await using _ = t.dir;
  for (const n of [1, 2, 3]) {
    await Deno.writeFile(`${t.path}/app.db`, textBytes(100, n));
    const r = await t.backUp([
      "--file",
      `${t.path}/app.db`,
      "--recipient",
      t.recipient,
      "--keep",
      "0",
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const list = await tinybackup([
    "list",
    "--dest",
    `${t.path}/b`,
    "--file",
    `${t.path}/app.db`,
    "--json",
  ], { env: t.env });
  assert.equal(list.code, 0, list.stderr);
  const entries = JSON.parse(list.stdout);
  assert.equal(entries.length, 3);
  assert.equal(entries[0].sha256, null);
  assert.equal(entries[0].encrypted, true);
  assert.equal(entries[0].sourceKind, "sealed");
  const elsewhere = await tinybackup([
    "list",
    "--dest",
    `${t.path}/b`,
    "--file",
    `${t.path}/other.db`,
    "--json",
  ], { env: t.env });
  assert.deepEqual(JSON.parse(elsewhere.stdout), []);
  const pruned = await tinybackup([
    "prune",
    "--dest",
    `${t.path}/b`,
    "--file",
    `${t.path}/app.db`,
    "--keep",
    "1",
  ], { env: t.env });
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.equal(pruned.stdout.trim().split("\n").length, 2);
  assert.equal((await visibleFiles(`${t.path}/b`)).length, 1);
});

gate.test("an unchanged encrypted file is found unchanged; new content or new recipients make a new backup", async () => {
  const t = await setUp();
  await using _ = t.dir;
  await Deno.writeFile(`${t.path}/app.db`, textBytes(1000));
  const args = ["--file", `${t.path}/app.db`, "--recipient", t.recipient, "--keep", "0"];
  const first = await t.backUp(args);
  assert.equal(first.code, 0, first.stderr);
  const again = await t.backUp(args);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, first.stdout, "the unchanged backup's path");
  assert.match(again.stderr, /unchanged since/);

  await run("age-keygen", ["-o", `${t.path}/spare.txt`]);
  const spare = /age1[0-9a-z]+/.exec(await Deno.readTextFile(`${t.path}/spare.txt`))![0];
  const moreReaders = await t.backUp([...args, "--recipient", spare]);
  assert.equal(moreReaders.code, 0, moreReaders.stderr);
  assert.notEqual(
    moreReaders.stdout,
    first.stdout,
    "a spare key added must reach the newest backup",
  );

  await Deno.writeFile(`${t.path}/app.db`, textBytes(1000, 1));
  const changed = await t.backUp([...args, "--recipient", spare]);
  assert.notEqual(changed.stdout, moreReaders.stdout);
  assert.equal((await visibleFiles(`${t.path}/b`)).length, 3);
});

gate.test("a backup for several recipients opens with each one's identity, in tinybackup and in age", async () => {
  const t = await setUp();
  await using _ = t.dir;
  await run("age-keygen", ["-o", `${t.path}/second.txt`]);
  await run("age-keygen", ["-o", `${t.path}/third.txt`]);
  const publicKey = async (file: string) => /age1[0-9a-z]+/.exec(await Deno.readTextFile(file))![0];
  await Deno.writeTextFile(
    `${t.path}/recipients.txt`,
    `# the team\n${await publicKey(`${t.path}/third.txt`)}\n\n`,
  );
  const content = textBytes(5000);
  await Deno.writeFile(`${t.path}/app.db`, content);
  const r = await t.backUp([
    "--file",
    `${t.path}/app.db`,
    "--recipient",
    t.recipient,
    "--recipient",
    await publicKey(`${t.path}/second.txt`),
    "--recipients-file",
    `${t.path}/recipients.txt`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const backup = r.stdout.trim();
  for (const key of [t.key, `${t.path}/second.txt`, `${t.path}/third.txt`]) {
    assert.ok(
      sameBytes(await run("gunzip", ["-c"], await run("age", ["-d", "-i", key, backup])), content),
    );
    const restored = await tinybackup(["restore", backup, "-i", key, "--to", "-"]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.ok(sameBytes(restored.bytes, content));
  }
});

gate.test("a passphrase from a file or a command encrypts as age -p does; age -d decrypts it", async () => {
  const t = await setUp();
  await using _ = t.dir;
  const content = textBytes(3000);
  await Deno.writeFile(`${t.path}/app.db`, content);
  await Deno.writeTextFile(`${t.path}/pass`, "correct horse battery staple\n", { mode: 0o600 });
  const r = await t.backUp(["--file", `${t.path}/app.db`, "--passphrase-file", `${t.path}/pass`]);
  assert.equal(r.code, 0, r.stderr);
  const backup = r.stdout.trim();
  await typeOnTerminal(
    `age -d -o '${t.path}/by-age.gz' '${backup}'`,
    "correct horse battery staple\n",
  );
  assert.ok(sameBytes(await run("gunzip", ["-c", `${t.path}/by-age.gz`]), content));
  const byCommand = await tinybackup([
    "restore",
    backup,
    "--passphrase-command",
    `cat '${t.path}/pass'`,
    "--to",
    "-",
  ]);
  assert.equal(byCommand.code, 0, byCommand.stderr);
  assert.ok(sameBytes(byCommand.bytes, content));
  const wrong = await tinybackup([
    "restore",
    backup,
    "--passphrase-command",
    "echo nope",
    "--to",
    `${t.path}/x`,
  ]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /cannot decrypt/);
  await assert.rejects(Deno.stat(`${t.path}/x`));
});

gate.test("a secret file others can read is refused; a wrong identity gets exit 2; nothing is written", async () => {
  const t = await setUp();
  await using _ = t.dir;
  await Deno.writeFile(`${t.path}/app.db`, textBytes(100));
  await Deno.writeTextFile(`${t.path}/pass`, "pw\n");
  await Deno.chmod(`${t.path}/pass`, 0o644);
  const open = await t.backUp([
    "--file",
    `${t.path}/app.db`,
    "--passphrase-file",
    `${t.path}/pass`,
  ]);
  assert.equal(open.code, 2);
  assert.match(open.stderr, /can be read or changed by other users \(mode 0644\)/);
  assert.match(open.stderr, /hint: make it private: chmod 600/);
  assert.equal(open.stdout, "");
  await assert.rejects(Deno.stat(`${t.path}/b`), "nothing written");

  const backup = (await t.backUp(["--file", `${t.path}/app.db`, "--recipient", t.recipient])).stdout
    .trim();
  await Deno.chmod(t.key, 0o640);
  const readable = await tinybackup(["restore", backup, "-i", t.key, "--to", `${t.path}/out`]);
  assert.equal(readable.code, 2);
  assert.match(readable.stderr, /identity file .* can be read or changed by other users/);
  await Deno.chmod(t.key, 0o600);

  await run("age-keygen", ["-o", `${t.path}/stranger.txt`]);
  const wrong = await tinybackup([
    "restore",
    backup,
    "-i",
    `${t.path}/stranger.txt`,
    "--to",
    `${t.path}/out`,
  ]);
  assert.equal(wrong.code, 2);
  assert.match(
    wrong.stderr,
    /error: cannot decrypt .*: none of the identities given is one of its recipients/,
  );
  assert.equal(wrong.stdout, "");
  await assert.rejects(Deno.stat(`${t.path}/out`));
  assert.deepEqual((await visibleFiles(t.path)).filter((f) => f.startsWith(".")), []);

  const secret = await t.backUp([
    "--file",
    `${t.path}/app.db`,
    "--recipient",
    "AGE-SECRET-KEY-1QQQ",
  ]);
  assert.equal(secret.code, 2);
  assert.match(secret.stderr, /hint: that is a secret key/);
  assert.ok(!secret.stderr.includes("AGE-SECRET-KEY-1QQQ"), "a secret key is never repeated");

  await Deno.writeTextFile(`${t.path}/team.txt`, `${t.recipient}\n`);
  await Deno.chmod(`${t.path}/team.txt`, 0o664);
  const shared = await t.backUp([
    "--file",
    `${t.path}/app.db`,
    "--recipients-file",
    `${t.path}/team.txt`,
  ]);
  assert.equal(shared.code, 2);
  assert.match(shared.stderr, /can be changed by other users \(mode 0664\), who could add a key/);
});

/** Where each age payload chunk of an encrypted file begins, after its header. */
function chunkStarts(bytes: Uint8Array): { header: number; chunks: number[] } {
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, 4096));
  const mac = text.indexOf("\n--- ");
  const header = text.indexOf("\n", mac + 1) + 1 + 16; // the header line, then the nonce
  const chunks = [];
  for (let at = header; at < bytes.length; at += 65536 + 16) chunks.push(at);
  return { header, chunks };
}

gate.test("flipped bytes and truncation anywhere, at every chunk boundary too, are reported by verify and never restored", async () => {
  const t = await setUp();
  await using _ = t.dir;
  // Three full chunks exactly, so that the last one is full: truncation at a boundary looks complete.
  const content = secretContent(3 * 65536);
  await Deno.writeFile(`${t.path}/app.db`, content);
  const backup = (await t.backUp([
    "--file",
    `${t.path}/app.db`,
    "--compress",
    "none",
    "--recipient",
    t.recipient,
  ])).stdout.trim();
  const good = await Deno.readFile(backup);
  const { header, chunks } = chunkStarts(good);
  assert.equal(chunks.length, 3);
  assert.equal(good.length, chunks[2] + 65536 + 16);

  const damages: [string, Uint8Array][] = [];
  const flipped = (at: number) => {
    const bytes = good.slice();
    bytes[at] ^= 0x01;
    return bytes;
  };
  damages.push(["a flipped byte in the header's stanza", flipped(40)]);
  damages.push(["a flipped byte in the header's MAC", flipped(header - 20)]);
  damages.push(["a flipped byte in the nonce", flipped(header - 5)]);
  for (const [i, at] of chunks.entries()) {
    damages.push([`a flipped first byte of chunk ${i}`, flipped(at)]);
    damages.push([`a flipped tag byte of chunk ${i}`, flipped(at + 65536 + 15)]);
    if (i > 0) damages.push([`truncation before chunk ${i}`, good.slice(0, at)]);
    damages.push([`truncation inside chunk ${i}`, good.slice(0, at + 1000)]);
  }
  damages.push(["truncation after the header", good.slice(0, header)]);
  damages.push(["the last byte gone", good.slice(0, -1)]);
  damages.push([
    "chunks 1 and 2 swapped",
    Uint8Array.from([
      ...good.subarray(0, chunks[1]),
      ...good.subarray(chunks[2]),
      ...good.subarray(chunks[1], chunks[2]),
    ]),
  ]);

  for (const [what, bytes] of damages) {
    await Deno.chmod(backup, 0o600);
    await Deno.writeFile(backup, bytes);
    const verify = await tinybackup(["verify", "--dest", `${t.path}/b`, "-i", t.key, "--json"]);
    assert.equal(verify.code, 1, `${what}: verify ${verify.stderr}`);
    assert.equal(JSON.parse(verify.stdout)[0].ok, false, what);
    const restored = await tinybackup(["restore", backup, "-i", t.key, "--to", `${t.path}/out.db`]);
    assert.equal(restored.code, 1, `${what}: restore ${restored.stderr}`);
    assert.match(restored.stderr, /is damaged/, what);
    await assert.rejects(Deno.stat(`${t.path}/out.db`), what);
    assert.deepEqual((await visibleFiles(t.path)).filter((f) => f.startsWith(".")), [], what);
  }
  await Deno.writeFile(backup, good);
  const restored = await tinybackup(["restore", backup, "-i", t.key, "--to", `${t.path}/out.db`]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.ok(sameBytes(await Deno.readFile(`${t.path}/out.db`), content));
});

gate.test("the destination holds no source path, no plaintext checksum and no plaintext", async () => {
  const t = await setUp();
  await using _ = t.dir;
  await Deno.mkdir(`${t.path}/private-folder`);
  const source = `${t.path}/private-folder/app.db`;
  const content = secretContent(200_000);
  await Deno.writeFile(source, content);
  for (const compression of ["none", "gzip", "zstd"]) {
    const r = await t.backUp([
      "--file",
      source,
      "--compress",
      compression,
      "--recipient",
      t.recipient,
      "--force",
      "--keep",
      "0",
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const sha256 = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", content)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const files = await run("find", [`${t.path}/b`, "-type", "f"]);
  const paths = new TextDecoder().decode(files).trim().split("\n");
  assert.equal(paths.length, 7, `three backups, their metadata and the series lock: ${paths}`);
  for (const path of paths) {
    const text = new TextDecoder("latin1").decode(await Deno.readFile(path));
    for (const needle of [source, "private-folder", sha256, MARKER]) {
      assert.ok(!text.includes(needle), `${path} holds ${needle}`);
    }
    // The host name is short enough to occur in random bytes by chance: looked for in metadata only.
    if (path.endsWith(".json")) {
      assert.ok(!text.includes(`"${Deno.hostname()}"`), `${path} names this host`);
      assert.deepEqual(JSON.parse(text).source, { kind: "sealed" });
    }
  }
});

gate.test("key generate writes a private identity age reads, never over a file, and prints the recipient on stderr", async () => {
  await using dir = await tempDir();
  const made = await tinybackup(["key", "generate", "--output", `${dir.path}/key.txt`]);
  assert.equal(made.code, 0, made.stderr);
  assert.equal(made.stdout, `${dir.path}/key.txt\n`);
  const recipient = /Public key: (age1[0-9a-z]+)/.exec(made.stderr)![1];
  assert.equal(Deno.statSync(`${dir.path}/key.txt`).mode! & 0o777, 0o600);
  const sealed = await run("age", ["-r", recipient], new TextEncoder().encode("hello"));
  assert.equal(
    new TextDecoder().decode(await run("age", ["-d", "-i", `${dir.path}/key.txt`], sealed)),
    "hello",
  );
  const before = await Deno.readFile(`${dir.path}/key.txt`);
  const again = await tinybackup(["key", "generate", "--output", `${dir.path}/key.txt`]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /exists already/);
  assert.equal(again.stdout, "");
  assert.ok(sameBytes(await Deno.readFile(`${dir.path}/key.txt`), before));

  // As the README has it: redirected by the shell, with its umask's mode.
  const { code } = await new Deno.Command("sh", {
    args: [
      "-c",
      `umask 022; "$@" > '${dir.path}/piped.txt'`,
      "sh",
      ...commandLine(["key", "generate"]),
    ],
    stderr: "null",
  }).output();
  assert.equal(code, 0);
  assert.equal(Deno.statSync(`${dir.path}/piped.txt`).mode! & 0o777, 0o600);
  assert.match(await Deno.readTextFile(`${dir.path}/piped.txt`), /^AGE-SECRET-KEY-1[0-9A-Z]+$/m);
});

gate.test("a config backup with recipients and identity_file is encrypted to both; show lists them", async () => {
  const t = await setUp();
  await using _ = t.dir;
  await run("age-keygen", ["-o", `${t.path}/own.txt`]);
  const content = textBytes(2000);
  await Deno.writeFile(`${t.path}/app.db`, content);
  const config = `${t.path}/config.toml`;
  await Deno.writeTextFile(
    config,
    `[defaults]\ndest = "${t.path}/b"\nrecipients = ["${t.recipient}"]\n\n` +
      `[backup.app]\nfile = "app.db"\nidentity_file = "own.txt"\n`,
    { mode: 0o600 },
  );
  const shown = await tinybackup(["config", "show", "--config", config], { env: t.env });
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`recipients = \\[ "${t.recipient}" \\]`));
  assert.match(shown.stdout, new RegExp(`identity_file = "${t.path}/own.txt"`));
  const r = await tinybackup(["run", "--config", config], { env: t.env });
  assert.equal(r.code, 0, r.stderr);
  const [backup] = await visibleFiles(`${t.path}/b`);
  assert.match(backup, /^app\.db\.\d{8}T\d{6}Z\.gz\.age$/);
  for (const key of [t.key, `${t.path}/own.txt`]) {
    const plain = await run("age", ["-d", "-i", key, `${t.path}/b/${backup}`]);
    assert.ok(sameBytes(await run("gunzip", ["-c"], plain), content));
  }
});

const withAt = await needs(
  "cli/encryption_test.ts: a scheduled job",
  programs("at", "atq", "atrm"),
);

withAt.test("a scheduled encrypted backup keeps the passphrase file's path in the at job, never the passphrase", async () => {
  const t = await setUp();
  await using _ = t.dir;
  await emptyQueue(QUEUE);
  const env = { ...t.env, TINYBACKUP_AT_QUEUE: QUEUE };
  try {
    await Deno.writeFile(`${t.path}/app.db`, textBytes(100));
    await Deno.writeTextFile(`${t.path}/pass`, "a passphrase nobody guesses\n", { mode: 0o600 });
    const args = [
      "--file",
      `${t.path}/app.db`,
      "--dest",
      `${t.path}/b`,
      "--passphrase-file",
      `${t.path}/pass`,
    ];
    const r = await tinybackup([...args, "--every", "1d", "--schedule-only"], { env });
    assert.equal(r.code, 0, r.stderr);
    const [number] = await queued(QUEUE);
    const script = await takeJob(number);
    const text = new TextDecoder().decode(script);
    assert.ok(!text.includes("a passphrase nobody guesses"), "the passphrase is never in the job");
    assert.ok(text.includes(`${t.path}/pass`), "the job reads the passphrase file at each run");
    const ran = await runScript(script);
    assert.equal(ran.code, 0, ran.stderr);
    const [backup] = await visibleFiles(`${t.path}/b`);
    assert.match(backup, /\.gz\.age$/);
    const restored = await tinybackup(
      ["restore", `${t.path}/b/${backup}`, "--passphrase-file", `${t.path}/pass`, "--to", "-"],
      { env },
    );
    assert.ok(sameBytes(restored.bytes, textBytes(100)), restored.stderr);
  } finally {
    await emptyQueue(QUEUE);
  }
});

gate.test("another machine's encrypted series of the same name is refused with a hint, and never rotated", async () => {
  const t = await setUp();
  await using _ = t.dir;
  await Deno.writeFile(`${t.path}/app.db`, textBytes(100));
  const args = ["--file", `${t.path}/app.db`, "--recipient", t.recipient, "--keep", "1"];
  const mine = await t.backUp(args);
  assert.equal(mine.code, 0, mine.stderr);
  // Another machine is another state folder, so another tag key.
  await Deno.writeFile(`${t.path}/app.db`, textBytes(100, 1));
  const other = await tinybackup(["--dest", `${t.path}/b`, ...args], {
    env: { XDG_STATE_HOME: `${t.path}/other-state` },
  });
  assert.equal(other.code, 2);
  assert.match(
    other.stderr,
    /already holds encrypted backups named 'app\.db' that this machine did not make/,
  );
  assert.match(other.stderr, /hint: pass --name/);
  assert.equal(other.stdout, "");
  assert.deepEqual(await visibleFiles(`${t.path}/b`), [mine.stdout.trim().split("/").at(-1)]);
});

asRoot.test("a machine of another name is told apart by an encrypted series' origin tag, even with the same tag key", async () => {
  const t = await setUp();
  await using _ = t.dir;
  await Deno.writeFile(`${t.path}/app.db`, textBytes(100));
  const args = ["--dest", `${t.path}/b`, "--file", `${t.path}/app.db`, "--recipient", t.recipient];
  // One state folder (say, a home shared by two machines), so one tag key: only the host differs.
  const mine = await tinybackup(args, { env: t.env, host: "host-a" });
  assert.equal(mine.code, 0, mine.stderr);
  await Deno.writeFile(`${t.path}/app.db`, textBytes(100, 1));
  const again = await tinybackup(args, { env: t.env, host: "host-a" });
  assert.equal(again.code, 0, again.stderr);
  await Deno.writeFile(`${t.path}/app.db`, textBytes(100, 2));
  const other = await tinybackup(args, { env: t.env, host: "host-b" });
  assert.equal(other.code, 2, other.stderr);
  assert.match(
    other.stderr,
    /already holds encrypted backups named 'app\.db' that this machine did not make/,
  );
  assert.equal(other.stdout, "");
  assert.deepEqual(
    await visibleFiles(`${t.path}/b`),
    [mine.stdout, again.stdout].map((path) => path.trim().split("/").at(-1)).sort(),
  );
});

gate.test("verify goes on past backups encrypted to other keys, checks their stored bytes, and exits 2", async () => {
  const t = await setUp();
  await using _ = t.dir;
  await run("age-keygen", ["-o", `${t.path}/other.txt`]);
  const other = /age1[0-9a-z]+/.exec(await Deno.readTextFile(`${t.path}/other.txt`))![0];
  const paths = [];
  for (const [n, recipient] of [[1, other], [2, t.recipient]] as const) {
    await Deno.writeFile(`${t.path}/app.db`, textBytes(100, n));
    const r = await t.backUp([
      "--file",
      `${t.path}/app.db`,
      "--recipient",
      recipient,
      "--keep",
      "0",
    ]);
    assert.equal(r.code, 0, r.stderr);
    paths.push(r.stdout.trim());
  }
  const r = await tinybackup(["verify", "--dest", `${t.path}/b`, "-i", t.key]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, `ok   ${paths[1]}\nok   ${paths[0]}\n`);
  assert.match(r.stderr, /error: 1 encrypted backup\(s\) do not open with the identities given/);
});
