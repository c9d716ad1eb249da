/**
 * `--dest ftp://HOST/PATH` and `ftps://` (explicit TLS), end to end against
 * vsftpd started for the tests on 127.0.0.1 (tests/_ftpd.ts). The folder on
 * "the server" is a folder here, so what the store left there is read back
 * with the standard tools: the contract of a destination (backup,
 * unchanged, rotation, list, verify, restore, prune, --json), a killed run,
 * refusals (no password, a wrong one, an untrusted certificate, TLS session
 * reuse), and hostile names.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { emptyQueue, jobScript, queued, runScript, takeJob } from "../_at_queue.ts";
import { needs, programs } from "../_requires.ts";
import { FTPD_REQUIREMENT, startFtpd } from "../_ftpd.ts";
import { assertNoLeftovers } from "../faults/_aftermath.ts";
import { commandLine, run, tempDir, tinybackup, visibleFiles } from "./_cli.ts";

const TESTS = "cli/ftp_store_test.ts";
const withFtp = await needs(TESTS, FTPD_REQUIREMENT, programs("gunzip"));
const withFtpAndAt = await needs(
  `${TESTS}: a scheduled job`,
  FTPD_REQUIREMENT,
  programs("at", "atq", "atrm", "gunzip"),
);
const test = (name: string, fn: () => Promise<void>) => withFtp.test(`ftp: ${name}`, fn);

for (const scheme of ["ftp", "ftps"]) {
  test(`${scheme}://: backup, unchanged, rotation, list, verify, restore and prune, as for a local folder`, async () => {
    await using ftpd = await startFtpd();
    await using dir = await tempDir();
    const env = ftpd.env;
    const folder = `${ftpd.data}/backups`;
    const dest = `${scheme}://127.0.0.1:${ftpd.port}${folder}`;
    const source = `${dir.path}/notes.txt`;
    await Deno.writeTextFile(source, "version 1\n");
    const first = await tinybackup(["--file", source, "--dest", dest, "--keep", "2"], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`^${dest}/notes\\.txt\\.\\d{8}T\\d{6}Z\\.gz\\n$`));
    const stored = `${folder}/${first.stdout.trimEnd().split("/").pop()}`;
    assert.equal(new TextDecoder().decode(await run("gunzip", ["-c", stored])), "version 1\n");
    assert.equal((await Deno.stat(stored)).mode! & 0o777, 0o400, "read-only for its owner");

    const again = await tinybackup(["--file", source, "--dest", dest, "--keep", "2"], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, first.stdout);
    assert.match(again.stderr, /unchanged since/);

    const made = [first.stdout.trimEnd()];
    for (const version of [2, 3]) {
      await Deno.writeTextFile(source, `version ${version}\n`);
      const r = await tinybackup(
        ["--file", source, "--dest", dest, "--keep", "2", "--json"],
        { env },
      );
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout);
      made.push(result.path);
      if (version === 3) assert.deepEqual(result.removed, [made[0]], "the oldest rotated away");
    }
    assert.equal((await visibleFiles(folder)).length, 2);

    const listed = await tinybackup(["list", "--dest", dest, "--json"], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).map((b: { path: string }) => b.path), [
      made[2],
      made[1],
    ]);
    const verified = await tinybackup(["verify", "--dest", dest], { env });
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.stdout, `ok   ${made[2]}\nok   ${made[1]}\n`);
    const restored = await tinybackup(["restore", made[1], "--to", `${dir.path}/out.txt`], { env });
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(await Deno.readTextFile(`${dir.path}/out.txt`), "version 2\n");
    const piped = await tinybackup(["restore", made[2], "--to", "-"], { env });
    assert.equal(piped.stdout, "version 3\n");

    const pruned = await tinybackup(
      ["prune", "--dest", dest, "--name", "notes.txt", "--keep", "1"],
      { env },
    );
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.deepEqual(await visibleFiles(folder), [made[2].split("/").pop()]);
    await assertNoLeftovers(folder);
  });
}

test("a killed run leaves no visible partial and loses no backup; the next run clears up", async () => {
  await using ftpd = await startFtpd();
  const env = ftpd.env;
  const folder = `${ftpd.data}/b`;
  const dest = `ftps://127.0.0.1:${ftpd.port}${folder}`;
  const first = await tinybackup(["--stdin", "--name", "pipe", "--dest", dest, "--keep", "1"], {
    env,
    stdin: "the old backup\n",
  });
  assert.equal(first.code, 0, first.stderr);
  const [program, ...args] = commandLine(
    ["--stdin", "--name", "pipe", "--dest", dest, "--keep", "1", "--compress", "none"],
  );
  const child = new Deno.Command(program, {
    args,
    env,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  const staging = `${folder}/.tinybackup/tmp`;
  const staged = async () => {
    const entries = await Array.fromAsync(Deno.readDir(staging)).catch(() => []);
    for (const entry of entries) {
      if ((await Deno.stat(join(staging, entry.name))).size > 0) return true;
    }
    return false;
  };
  const piece = new Uint8Array(1024 * 1024);
  for (let i = 0; i < 200 && !(await staged()); i++) await writer.write(piece);
  assert.ok(await staged(), "an upload in progress");
  child.kill("SIGKILL");
  await child.status;
  await writer.abort().catch(() => {});
  assert.deepEqual(await visibleFiles(folder), [first.stdout.trimEnd().split("/").pop()]);
  const next = await tinybackup(["--stdin", "--name", "pipe", "--dest", dest, "--keep", "1"], {
    env,
    stdin: "the new backup\n",
  });
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(await visibleFiles(folder), [next.stdout.trimEnd().split("/").pop()]);
  await assertNoLeftovers(folder);
});

test("no password, a wrong one, an open netrc, an untrusted certificate or TLS session reuse: exit 2, nothing written; no server: exit 1", async () => {
  await using ftpd = await startFtpd();
  await using dir = await tempDir();
  const source = `${dir.path}/a.txt`;
  await Deno.writeTextFile(source, "a\n");
  const folder = `${ftpd.data}/x`;
  const real = (await Deno.readTextFile(ftpd.netrc)).trim().split(" ").pop()!;
  const url = (scheme = "ftps", port = ftpd.port) => `${scheme}://127.0.0.1:${port}${folder}`;
  const backup = (dest: string, env: Record<string, string>) =>
    tinybackup(["--file", source, "--dest", dest], { env });
  const refused = async (dest: string, env: Record<string, string>, said: RegExp) => {
    const r = await backup(dest, env);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, said);
    for (const password of [real, "nope", "secret"]) {
      assert.ok(!r.stderr.includes(password), "no password in the message");
    }
  };
  await refused(
    url(),
    { ...ftpd.env, NETRC: `${dir.path}/none` },
    /error: no password for 127\.0\.0\.1: there is no .*\n.*hint: add 'machine 127\.0\.0\.1 login USER/,
  );
  const wrong = `${dir.path}/netrc`;
  await Deno.writeTextFile(wrong, "machine 127.0.0.1 login tbftp password nope\n", { mode: 0o600 });
  await refused(
    url(),
    { ...ftpd.env, NETRC: wrong },
    /error: the FTP server 127\.0\.0\.1 refused the login of 'tbftp'/,
  );
  await Deno.chmod(wrong, 0o644);
  await refused(
    url(),
    { ...ftpd.env, NETRC: wrong },
    /can be read or written by others \(mode 0644\)/,
  );
  await refused(
    url(),
    { ...ftpd.env, SSL_CERT_FILE: "" },
    /error: the TLS certificate of the FTP server 127\.0\.0\.1 is not trusted .*\n.*hint: point SSL_CERT_FILE/,
  );
  await refused(`ftp://u:secret@127.0.0.1:${ftpd.port}/x`, ftpd.env, /has a password in it/);
  await refused(url("ftps") + "/a%00b", ftpd.env, /control characters/);
  assert.deepEqual(await Array.fromAsync(Deno.readDir(ftpd.data)), [], "nothing written");

  await using reusing = await startFtpd(true);
  await refused(
    url("ftps", reusing.port),
    reusing.env,
    /requires TLS session reuse between connections.*\n.*hint: on vsftpd, set require_ssl_reuse=NO/,
  );

  const down = await backup(url("ftp", 9), ftpd.env);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /error: cannot reach the FTP server 127\.0\.0\.1:9: .*3 tries/);
});

test("hostile names: spaces, quotes, %, unicode in the folder and the series; a line break is refused", async () => {
  await using ftpd = await startFtpd();
  const env = ftpd.env;
  const folder = `${ftpd.data}/we ird 'q' ü%`;
  const dest = `ftps://127.0.0.1:${ftpd.port}${encodeURI(folder).replace(/%25/g, "%25")}`;
  const r = await tinybackup(["--stdin", "--name", "n;`x`$(y) 100%", "--dest", dest], {
    env,
    stdin: "hostile\n",
  });
  assert.equal(r.code, 0, r.stderr);
  const url = r.stdout.trimEnd();
  assert.match(url, /\/n;%60x%60\$\(y\)%20100%25\.\d{8}T\d{6}Z\.gz$/);
  const stored = (await visibleFiles(folder))[0];
  assert.equal(
    new TextDecoder().decode(await run("gunzip", ["-c", join(folder, stored)])),
    "hostile\n",
  );
  const piped = await tinybackup(["restore", url, "--to", "-"], { env });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, "hostile\n");
  const broken = await tinybackup(["--stdin", "--name", "a\r\nDELE x", "--dest", dest], {
    env,
    stdin: "x\n",
  });
  assert.equal(broken.code, 2);
  assert.equal(broken.stdout, "");
  assert.match(broken.stderr, /^tinybackup: error: .*(control|line break)/);
});

withFtpAndAt.test("ftp: a scheduled job keeps where the password is, never the password, and runs as atd runs it", async () => {
  const QUEUE = "f";
  await emptyQueue(QUEUE);
  await using ftpd = await startFtpd();
  await using dir = await tempDir();
  const source = `${dir.path}/a.txt`;
  await Deno.writeTextFile(source, "scheduled\n");
  const folder = `${ftpd.data}/jobs`;
  const dest = `ftps://127.0.0.1:${ftpd.port}${folder}`;
  const env = { ...ftpd.env, TINYBACKUP_AT_QUEUE: QUEUE, XDG_STATE_HOME: `${dir.path}/state` };
  try {
    const r = await tinybackup(
      ["--file", source, "--dest", dest, "--every", "1d", "--schedule-only"],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    const [atJob] = await queued(QUEUE);
    const script = new TextDecoder().decode(await jobScript(atJob));
    const password = (await Deno.readTextFile(ftpd.netrc)).split(" ").pop()!.trim();
    assert.ok(!script.includes(password), "the password is not in the job");
    assert.match(script, /NETRC=/);
    const ran = await runScript(await takeJob(atJob));
    assert.equal(ran.code, 0, ran.stderr);
    const log = JSON.parse((await tinybackup(["log", "--json"], { env })).stdout);
    assert.equal(log[0].result, "ok", log[0].message);
    const stored = join(folder, log[0].path.split("/").pop());
    assert.equal(new TextDecoder().decode(await run("gunzip", ["-c", stored])), "scheduled\n");
    // The password changes: doctor says the destination will refuse the next run.
    await Deno.writeTextFile(ftpd.netrc, "machine 127.0.0.1 login tbftp password changed\n");
    const doctor = await tinybackup(["doctor"], { env });
    assert.match(
      doctor.stdout,
      /its destination: the FTP server 127\.0\.0\.1 refused the login of 'tbftp'/,
    );
  } finally {
    await emptyQueue(QUEUE);
  }
});

test("publishing waits for another run's publish lock, and takes over one a killed run left", async () => {
  await using ftpd = await startFtpd();
  const env = ftpd.env;
  const folder = `${ftpd.data}/locked`;
  const dest = `ftp://127.0.0.1:${ftpd.port}${folder}`;
  const first = await tinybackup(["--stdin", "--name", "a", "--dest", dest], {
    env,
    stdin: "first\n",
  });
  assert.equal(first.code, 0, first.stderr);
  // Another run's lock, as the server's user would make it.
  const lock = `${folder}/.tinybackup/publish.lock`;
  const hold = async (ageSeconds: number) => {
    await Deno.mkdir(lock);
    await Deno.writeFile(`${lock}/owner`, new Uint8Array());
    const when = new Date(Date.now() - ageSeconds * 1000);
    await Deno.utime(`${lock}/owner`, when, when);
    await run("chown", ["-R", "tbftp", lock]);
  };
  await hold(0);
  const [program, ...args] = commandLine(["--stdin", "--name", "b", "--dest", dest]);
  const waiting = new Deno.Command(program, {
    args,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = waiting.stdin.getWriter();
  await writer.write(new TextEncoder().encode("second\n"));
  await writer.close();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.equal((await visibleFiles(folder)).length, 1, "nothing published while the lock is held");
  await Deno.remove(lock, { recursive: true });
  const done = await waiting.output();
  assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
  assert.equal((await visibleFiles(folder)).length, 2);

  // A killed run's lock, three minutes old: taken over, and gone afterwards.
  await hold(180);
  const third = await tinybackup(["--stdin", "--name", "c", "--dest", dest], {
    env,
    stdin: "third\n",
  });
  assert.equal(third.code, 0, third.stderr);
  assert.equal((await visibleFiles(folder)).length, 3);
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(`${folder}/.tinybackup`))).map((e) => e.name).filter((n) =>
      n.startsWith("publish.lock")
    ),
    [],
  );
});
