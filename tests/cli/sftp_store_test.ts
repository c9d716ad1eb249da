/**
 * `--dest sftp://HOST/PATH`, end to end against a real sshd with its SFTP
 * server, started for the tests on 127.0.0.1 (tests/_sshd.ts). The folder
 * on "the host" is a folder here, so what the store left there is read
 * back with the standard tools: the whole contract of a destination
 * (backup, unchanged, rotation, list, verify, restore, prune, --json, a
 * scheduled run), a killed run and a dropped connection, a full disk, a
 * bad host key, and hostile names.
 */
import assert from "node:assert/strict";
import { emptyQueue, queued, runScript, takeJob } from "../_at_queue.ts";
import { needs, programs } from "../_requires.ts";
import { SMALL_DISK, smallDisk } from "../_small_disk.ts";
import { SSH_ALIAS, SSHD_REQUIREMENT, startSshd } from "../_sshd.ts";
import { assertNoLeftovers } from "../faults/_aftermath.ts";
import { commandLine, run, tempDir, tinybackup, visibleFiles } from "./_cli.ts";

const TESTS = "cli/sftp_store_test.ts";
const withSftp = await needs(TESTS, SSHD_REQUIREMENT, programs("gunzip"));
const withSftpAndAt = await needs(
  `${TESTS}: a scheduled job`,
  SSHD_REQUIREMENT,
  programs("at", "atq", "atrm", "gunzip"),
);
const withSftpAndSmallDisk = await needs(`${TESTS}: a full disk`, SSHD_REQUIREMENT, ...SMALL_DISK);
const test = (name: string, fn: () => Promise<void>, gate = withSftp) =>
  gate.test(`sftp: ${name}`, fn);

/** The URL of local folder `path` on the test server. */
const urlOf = (path: string) => `sftp://${SSH_ALIAS}${path}`;

test("backup, unchanged, rotation, list, verify, restore and prune, as for a local folder", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const folder = `${dir.path}/remote/backups`;
  const dest = urlOf(folder);
  const ssh = ["--ssh-config", sshd.config];
  const source = `${dir.path}/notes.txt`;
  await Deno.writeTextFile(source, "version 1\n");
  const first = await tinybackup(["--file", source, "--dest", dest, ...ssh, "--keep", "2"]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`^${dest}/notes\\.txt\\.\\d{8}T\\d{6}Z\\.gz\\n$`));
  const stored = `${folder}/${first.stdout.trimEnd().split("/").pop()}`;
  assert.equal(new TextDecoder().decode(await run("gunzip", ["-c", stored])), "version 1\n");
  assert.equal((await Deno.stat(stored)).mode! & 0o777, 0o400, "read-only for its owner");

  const again = await tinybackup(["--file", source, "--dest", dest, ...ssh, "--keep", "2"]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, first.stdout);
  assert.match(again.stderr, /unchanged since/);

  const made = [first.stdout.trimEnd()];
  for (const version of [2, 3]) {
    await Deno.writeTextFile(source, `version ${version}\n`);
    const r = await tinybackup([
      ...["--file", source, "--dest", dest, ...ssh, "--keep", "2", "--json"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    made.push(result.path);
    if (version === 3) assert.deepEqual(result.removed, [made[0]], "the oldest rotated away");
  }
  assert.equal((await visibleFiles(folder)).length, 2);

  const listed = await tinybackup(["list", "--dest", dest, ...ssh, "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout).map((b: { path: string }) => b.path), [
    made[2],
    made[1],
  ]);
  const verified = await tinybackup(["verify", "--dest", dest, ...ssh]);
  assert.equal(verified.code, 0, verified.stderr);
  assert.equal(verified.stdout, `ok   ${made[2]}\nok   ${made[1]}\n`);

  const restored = await tinybackup(["restore", made[1], ...ssh, "--to", `${dir.path}/out.txt`]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(await Deno.readTextFile(`${dir.path}/out.txt`), "version 2\n");
  const piped = await tinybackup(["restore", made[2], ...ssh, "--to", "-"]);
  assert.equal(piped.stdout, "version 3\n");

  const pruned = await tinybackup([
    "prune",
    "--dest",
    dest,
    ...ssh,
    "--name",
    "notes.txt",
    "--keep",
    "1",
  ]);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.deepEqual(await visibleFiles(folder), [made[2].split("/").pop()]);
  await assertNoLeftovers(folder);

  // A backup damaged on the host is found by verify.
  const kept = `${folder}/${made[2].split("/").pop()}`;
  await Deno.chmod(kept, 0o600);
  await Deno.writeFile(kept, new Uint8Array([0x1f, 0x8b, 0, 0]));
  const damaged = await tinybackup(["verify", "--dest", dest, ...ssh]);
  assert.equal(damaged.code, 1);
  assert.match(damaged.stdout, /^bad {2}sftp:.*it does not decompress/m);
});

test("a folder in the login's home (~/), and bad URLs or a missing folder: exit 2, nothing written", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const ssh = ["--ssh-config", sshd.config];
  const source = `${dir.path}/a.txt`;
  await Deno.writeTextFile(source, "a\n");
  const home = Deno.env.get("HOME")!;
  const sub = `tinybackup-test-${crypto.randomUUID()}`;
  try {
    const r = await tinybackup([
      "--file",
      source,
      "--dest",
      `sftp://${SSH_ALIAS}/~/${sub}`,
      ...ssh,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await visibleFiles(`${home}/${sub}`)).length, 1, "in the home's folder");
  } finally {
    await Deno.remove(`${home}/${sub}`, { recursive: true }).catch(() => {});
  }
  for (
    const [dest, error] of [
      ["sftp://", /not an SFTP URL|names no folder|is not one ssh takes/],
      [`sftp://${SSH_ALIAS}`, /names no folder/],
      ["sftp://-oProxyCommand=x/tmp", /is not one ssh takes/],
      [`sftp://${SSH_ALIAS}/tmp/../etc`, /'\.' or '\.\.'/],
    ] as const
  ) {
    const bad = await tinybackup(["--file", source, "--dest", dest, ...ssh]);
    assert.equal(bad.code, 2, `${dest}: ${bad.stderr}`);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, error);
  }
  const missing = await tinybackup(["list", "--dest", urlOf(`${dir.path}/nope`), ...ssh]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /destination not found: sftp:/);
  const noConfig = await tinybackup(["--file", source, "--dest", dir.path, ...ssh]);
  assert.equal(noConfig.code, 2);
  assert.match(noConfig.stderr, /--ssh-config goes with --ssh or an sftp:\/\/ destination/);
});

test("an unknown host key is refused (exit 2, with a hint); no server is exit 1; nothing written", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const source = `${dir.path}/a.txt`;
  await Deno.writeTextFile(source, "a\n");
  await Deno.writeTextFile(sshd.knownHosts, "");
  const r = await tinybackup([
    ...["--file", source, "--dest", urlOf(`${dir.path}/b`), "--ssh-config", sshd.config],
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    /error: cannot use tbtest over ssh: its host key is unknown or has changed/,
  );
  assert.match(r.stderr, /hint: check the host's key/);
  assert.equal(await Deno.stat(`${dir.path}/b`).catch(() => undefined), undefined);
  // No server: tried again a few times, then a run-time failure (exit 1), not bad input.
  const down = await tinybackup([
    ...["--file", source, "--dest", `sftp://127.0.0.1:1${dir.path}/b`, "--ssh-config", sshd.config],
  ]);
  assert.equal(down.code, 1, down.stderr);
  assert.equal(down.stdout, "");
  assert.match(down.stderr, /error: cannot use 127\.0\.0\.1:1 over ssh: it cannot be reached/);
});

/** The first process that has file `path` open: the SFTP server reading a backup. */
async function openerOf(path: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for await (const process of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(process.name) || Number(process.name) === Deno.pid) continue;
      const fds = await Array.fromAsync(Deno.readDir(`/proc/${process.name}/fd`)).catch(() => []);
      for (const fd of fds) {
        const target = await Deno.readLink(`/proc/${process.name}/fd/${fd.name}`).catch(() => "");
        if (target === path) return Number(process.name);
      }
    }
  }
  throw new Error(`nothing opened ${path}`);
}

/** A process that has a staged file in `folder` open here (an SFTP server writing it), if any. */
async function anyWriterOf(folder: string): Promise<number | undefined> {
  const { stdout } = await new Deno.Command("sh", {
    args: [
      "-c",
      'find /proc/[0-9]*/fd -lname "$1/*.partial" 2>/dev/null | head -n 1',
      "sh",
      folder,
    ],
    stdout: "piped",
  }).output();
  const pid = /^\/proc\/(\d+)\//.exec(new TextDecoder().decode(stdout))?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/** The first process that has a staged file in `folder` open for writing: the SFTP server writing it. */
async function writerOf(folder: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const pid = await anyWriterOf(folder);
    if (pid !== undefined) return pid;
    await new Promise((wake) => setTimeout(wake, 5));
  }
  throw new Error(`nothing wrote in ${folder}`);
}

/**
 * Waits until no process has a staged file in `folder` open: the server of a
 * killed run lingers a moment, and must not be taken for the next run's.
 */
async function noWriterIn(folder: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (await anyWriterOf(folder) !== undefined) {
    if (Date.now() > deadline) throw new Error(`something still writes in ${folder}`);
    await new Promise((wake) => setTimeout(wake, 20));
  }
}

test("a killed run and a dropped connection leave no visible partial and lose no backup; the next run clears up", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const folder = `${dir.path}/b`;
  const dest = urlOf(folder);
  const ssh = ["--ssh-config", sshd.config];
  const source = `${dir.path}/big.bin`;
  const old = await (async () => {
    await Deno.writeTextFile(source, "small first version\n");
    const r = await tinybackup(["--file", source, "--dest", dest, ...ssh, "--keep", "1"]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trimEnd().split("/").pop()!;
  })();
  // 48 MiB of random: the upload takes long enough to be cut mid-way.
  const random = new Uint8Array(48 * 1024 * 1024);
  for (let at = 0; at < random.length; at += 65536) {
    crypto.getRandomValues(random.subarray(at, at + 65536));
  }
  await Deno.writeFile(source, random);
  for (const how of ["SIGKILL to tinybackup", "the SFTP server killed"]) {
    const [program, ...args] = commandLine([
      ...["--file", source, "--dest", dest, ...ssh, "--keep", "1", "--compress", "none"],
    ]);
    const child = new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).spawn();
    const server = await writerOf(`${folder}/.tinybackup/tmp`);
    if (how === "SIGKILL to tinybackup") child.kill("SIGKILL");
    else Deno.kill(server, "SIGKILL");
    const { code, stdout, stderr } = await child.output();
    assert.notEqual(code, 0, `${how}: the run failed`);
    assert.equal(new TextDecoder().decode(stdout), "", how);
    if (how === "the SFTP server killed") {
      assert.equal(code, 1, new TextDecoder().decode(stderr));
      assert.match(new TextDecoder().decode(stderr), /SFTP connection to tbtest was lost/);
    }
    assert.deepEqual(await visibleFiles(folder), [old], `${how}: the old backup is there, alone`);
    await noWriterIn(`${folder}/.tinybackup/tmp`);
  }
  // The next run removes what the killed run left, and backs up.
  const next = await tinybackup(["--file", source, "--dest", dest, ...ssh, "--keep", "1"]);
  assert.equal(next.code, 0, next.stderr);
  await assertNoLeftovers(folder);
  const [kept] = await visibleFiles(folder);
  assert.notEqual(kept, old);
  assert.deepEqual(
    await run("gunzip", ["-c", `${folder}/${kept}`]),
    random,
    "the new backup is whole",
  );

  // Another machine's staged files: a live one (touched now) stays; one
  // untouched for two hours by the server's clock is taken for abandoned.
  const staging = `${folder}/.tinybackup/tmp`;
  const fresh = `${staging}/elsewhere-0123456789ab.4242.${crypto.randomUUID()}.partial`;
  const stale = `${staging}/elsewhere-0123456789ab.4343.${crypto.randomUUID()}.partial`;
  await Deno.writeTextFile(fresh, "uploading");
  await Deno.writeTextFile(stale, "left behind");
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  await Deno.utime(stale, twoHoursAgo, twoHoursAgo);
  await Deno.writeTextFile(source, "another version\n");
  const later = await tinybackup(["--file", source, "--dest", dest, ...ssh, "--keep", "1"]);
  assert.equal(later.code, 0, later.stderr);
  assert.ok(await Deno.stat(fresh), "a live upload of another machine is left alone");
  assert.equal(await Deno.stat(stale).catch(() => undefined), undefined, "the stale one is gone");
});

test("a connection dropped mid-restore fails it (exit 1) and leaves nothing half-written", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const folder = `${dir.path}/b`;
  const ssh = ["--ssh-config", sshd.config];
  const source = `${dir.path}/big.bin`;
  const random = new Uint8Array(64 * 1024 * 1024);
  for (let at = 0; at < random.length; at += 65536) {
    crypto.getRandomValues(random.subarray(at, at + 65536));
  }
  await Deno.writeFile(source, random);
  const made = await tinybackup([
    ...["--file", source, "--dest", urlOf(folder), ...ssh, "--compress", "none"],
  ]);
  assert.equal(made.code, 0, made.stderr);
  const url = made.stdout.trimEnd();
  const stored = `${folder}/${url.split("/").pop()}`;
  await Deno.mkdir(`${dir.path}/out`);
  const [program, ...args] = commandLine(["restore", url, ...ssh, "--to", `${dir.path}/out`]);
  const child = new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).spawn();
  Deno.kill(await openerOf(stored), "SIGKILL");
  const { code, stdout, stderr } = await child.output();
  const said = new TextDecoder().decode(stderr);
  assert.equal(code, 1, said);
  assert.equal(new TextDecoder().decode(stdout), "");
  assert.match(said, /error: the SFTP connection to tbtest was lost/);
  assert.doesNotMatch(said, /Uncaught|at async/, "a clear error, not a crash");
  assert.deepEqual(await visibleFiles(`${dir.path}/out`), []);
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(`${dir.path}/out`))).map((e) => e.name),
    [],
    "no partial file either",
  );
});

test("a hidden folder or a folder above of another user is refused (exit 2) by every command", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const folder = `${dir.path}/b`;
  const dest = urlOf(folder);
  const ssh = ["--ssh-config", sshd.config];
  const source = `${dir.path}/a.txt`;
  await Deno.writeTextFile(source, "a\n");
  const first = await tinybackup(["--file", source, "--dest", dest, ...ssh]);
  assert.equal(first.code, 0, first.stderr);
  const nobody = 65534;
  await Deno.chown(`${folder}/.tinybackup`, nobody, nobody);
  for (
    const args of [
      ["list", "--dest", dest],
      ["verify", "--dest", dest],
      ["restore", first.stdout.trimEnd(), "--to", "-"],
      ["--file", source, "--dest", dest],
    ]
  ) {
    const r = await tinybackup([...args, ...ssh]);
    assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /\.tinybackup on sftp:.* belongs to another user \(uid 65534\)/);
  }
  await Deno.chown(`${folder}/.tinybackup`, 0, 0);
  await Deno.chown(folder, nobody, nobody);
  const swapped = await tinybackup(["--file", source, "--dest", dest, ...ssh]);
  assert.equal(swapped.code, 2, swapped.stderr);
  assert.match(swapped.stderr, /who could swap the backups there/);
  await Deno.chown(folder, 0, 0);
  await Deno.chmod(folder, 0o777);
  const open = await tinybackup(["list", "--dest", dest, ...ssh]);
  assert.equal(open.code, 2, open.stderr);
  assert.match(open.stderr, /can be written by anyone \(mode 0777\)/);
});

withSftpAndSmallDisk.test("sftp: a full disk on the host fails the run with exit 1, and keeps the older backup", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  await using disk = await smallDisk(4 * 1024 * 1024);
  const dest = urlOf(disk.path);
  const ssh = ["--ssh-config", sshd.config];
  const source = `${dir.path}/data.bin`;
  await Deno.writeTextFile(source, "fits\n");
  const first = await tinybackup(["--file", source, "--dest", dest, ...ssh, "--keep", "1"]);
  assert.equal(first.code, 0, first.stderr);
  const random = new Uint8Array(8 * 1024 * 1024);
  for (let at = 0; at < random.length; at += 65536) {
    crypto.getRandomValues(random.subarray(at, at + 65536));
  }
  await Deno.writeFile(source, random);
  const full = await tinybackup(["--file", source, "--dest", dest, ...ssh, "--keep", "1"]);
  assert.equal(full.code, 1, full.stderr);
  assert.equal(full.stdout, "");
  assert.match(full.stderr, /error: .*(full|space|Failure)/i);
  assert.deepEqual(await visibleFiles(disk.path), [first.stdout.trimEnd().split("/").pop()]);
  await assertNoLeftovers(disk.path);
});

test("hostile names: spaces, quotes, newlines and unicode in the folder and the series", async () => {
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const folder = `${dir.path}/it's "here" $HOME; 日本`;
  const dest = `sftp://${SSH_ALIAS}${folder.split("/").map(encodeURIComponent).join("/")}`;
  const ssh = ["--ssh-config", sshd.config];
  const source = `${dir.path}/a file 'x'.txt`;
  await Deno.writeTextFile(source, "hostile\n");
  const r = await tinybackup([
    "--file",
    source,
    "--dest",
    dest,
    ...ssh,
    "--name",
    "n;`x`$(y) 100%",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [stored] = await visibleFiles(folder);
  assert.match(stored, /^n;`x`\$\(y\) 100%\.\d{8}T\d{6}Z\.gz$/);
  // The printed URL is %-escaped as URLs are, and restore takes it back.
  assert.match(r.stdout, /\/n;%60x%60\$\(y\)%20100%25\.\d{8}T\d{6}Z\.gz\n$/);
  const back = await tinybackup(["restore", r.stdout.trimEnd(), ...ssh, "--to", "-"]);
  assert.equal(back.stdout, "hostile\n", back.stderr);
  assert.equal(
    new TextDecoder().decode(await run("gunzip", ["-c", `${folder}/${stored}`])),
    "hostile\n",
  );
  const listed = await tinybackup(["list", "--dest", dest, ...ssh, "--json"]);
  assert.equal(JSON.parse(listed.stdout)[0].name, "n;`x`$(y) 100%");
});

withSftpAndAt.test("sftp: a scheduled job keeps the URL and the ssh config, and runs as atd runs it", async () => {
  const QUEUE = "t";
  await emptyQueue(QUEUE);
  await using sshd = await startSshd();
  await using dir = await tempDir();
  const source = `${dir.path}/a.txt`;
  await Deno.writeTextFile(source, "scheduled\n");
  const env = { TINYBACKUP_AT_QUEUE: QUEUE, XDG_STATE_HOME: `${dir.path}/state` };
  const dest = urlOf(`${dir.path}/b`);
  try {
    const r = await tinybackup([
      ...["--file", source, "--dest", dest, "--ssh-config", sshd.config],
      ...["--every", "1d", "--schedule-only"],
    ], { env });
    assert.equal(r.code, 0, r.stderr);
    const jobs = await tinybackup(["jobs"], { env });
    assert.match(jobs.stdout, new RegExp(`-> ${dest}`));
    const [atJob] = await queued(QUEUE);
    const ran = await runScript(await takeJob(atJob));
    assert.equal(ran.code, 0, ran.stderr);
    const log = JSON.parse((await tinybackup(["log", "--json"], { env })).stdout);
    assert.equal(log[0].result, "ok", log[0].message);
    assert.ok(log[0].path.startsWith(`${dest}/a.txt.`), log[0].path);
    assert.equal((await visibleFiles(`${dir.path}/b`)).length, 1);
    // The host's key changes: doctor says the destination will refuse the next run.
    await Deno.writeTextFile(sshd.knownHosts, "");
    const doctor = await tinybackup(["doctor"], { env });
    assert.match(
      doctor.stdout,
      /its destination: cannot use tbtest over ssh: its host key is unknown/,
    );
  } finally {
    await emptyQueue(QUEUE);
  }
});
