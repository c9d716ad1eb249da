/**
 * A source that changes while it is read is never recorded as a clean
 * backup: the read is retried, then the run fails (exit 1), or, with
 * --allow-changing, keeps the last read and marks it. And a backup never
 * disturbs its source: not its content, times, mode, owner or inode, and it
 * takes no lock, so other programs can lock and write the file meanwhile.
 *
 * Writers are separate processes. Where a change must land mid-read, the
 * backup is paused (SIGSTOP) at a read position seen in /proc/PID/fdinfo,
 * the change is made, and the backup resumed: the timing is then certain.
 */
import assert from "node:assert/strict";
import { needs, programs } from "../_requires.ts";
import { type Run, run, sameBytes, tempDir, tinybackup, visibleFiles } from "../cli/_cli.ts";
import {
  assertCleanFailure,
  decompressed,
  MiB,
  randomBytes,
  readMetadata,
  readPosition,
  sha256Hex,
  sleep,
  type Started,
  startTinybackup,
  stopAfterReading,
  watchStaging,
} from "./_races.ts";

/** Backups are read back with the standard tools, not only with tinybackup. */
const GUNZIP = programs("gunzip");
const ZSTD = programs("zstd");
const withGunzip = await needs(
  "faults/changing_source_test.ts: the tests reading gzip backups",
  GUNZIP,
);
const withZstd = await needs("faults/changing_source_test.ts: 2 tests reading zstd backups", ZSTD);
const withBoth = await needs(
  "faults/changing_source_test.ts: the no-disturbance test",
  GUNZIP,
  ZSTD,
);

/** Sum of DEFAULT_RETRY_DELAYS in lib/backup/run_backup.ts: 4 reads, 3 waits. */
const RETRY_WAIT_MS = 250 + 1000 + 3000;
const TRIES = 4;

/**
 * A separate process that keeps writing 8-byte counters into `file` at
 * spread offsets, in place: the size never changes, only content and mtime.
 */
function startScribbler(file: string, size: number): Deno.ChildProcess {
  const script = `
    i=0
    while :; do
      i=$((i + 1))
      printf '%08d' "$i" | dd of="$1" bs=8 seek=$(( (i * 7919) % $2 )) conv=notrunc status=none
    done`;
  return new Deno.Command("sh", {
    args: ["-c", script, "sh", file, String(size / 8 - 1)],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function stopProcess(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // It ended already.
  }
  await child.status;
}

function resume(running: Started): void {
  try {
    running.child.kill("SIGCONT");
  } catch {
    // It ended already.
  }
}

/** Waits until `running` has read `file` at least `bytes` far; returns the position. */
async function waitUntilRead(running: Started, file: string, bytes: number): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (true) {
    const pos = await readPosition(running.pid, file);
    if (pos !== undefined && pos >= bytes) return pos;
    assert.ok(!running.exited(), `tinybackup ended before reading ${bytes} bytes of ${file}`);
    assert.ok(Date.now() < deadline, "tinybackup did not start reading within 30 s");
    await sleep(1);
  }
}

/** Whether `dest` holds no backup, no metadata and no staged file. */
async function assertNothingRecorded(dest: string): Promise<void> {
  assert.deepEqual(await visibleFiles(dest), []);
  const hidden = [];
  for await (const entry of Deno.readDir(`${dest}/.tinybackup`)) hidden.push(entry.name);
  assert.deepEqual(hidden.sort(), ["locks", "tmp"]);
  assert.deepEqual([...Deno.readDirSync(`${dest}/.tinybackup/tmp`)], []);
}

/**
 * Starts `tinybackup --file FILE --dest DEST ARGS...` and stops it (SIGSTOP)
 * once it has read 8 MiB of `file`, which is `size` bytes. A read so fast
 * that it ended before the stop took hold is let finish, and the backup
 * started again into a fresh destination, three times at most.
 */
async function startStoppedMidRead(
  file: string,
  size: number,
  dest: string,
  args: string[],
  before: (dest: string) => Promise<void> = () => Promise.resolve(),
) {
  for (let attempt = 1;; attempt++) {
    const to = attempt === 1 ? dest : `${dest}.${attempt}`;
    await before(to);
    const staging = watchStaging(to);
    const backup = startTinybackup(["--file", file, "--dest", to, ...args]);
    const stopped = await stopAfterReading(backup.pid, file, 8 * MiB);
    const pausedAt = stopped ? await readPosition(backup.pid, file) : undefined;
    if (pausedAt !== undefined && pausedAt < size) return { backup, staging, pausedAt, dest: to };
    resume(backup);
    await backup.result;
    await staging.stop();
    assert.ok(attempt < 3, "three backups read the file too fast to be stopped in the middle");
  }
}

/**
 * Backs up a fresh `file` of `size` bytes with `compression`, stops the
 * backup in the middle of its read, lets `change` alter the file from
 * another process, and resumes it. Returns the run's JSON result, where it
 * was stopped, and how many reads were staged.
 */
async function changeMidRead(
  dir: string,
  compression: string,
  change: (file: string) => Promise<void>,
  size = 64 * MiB,
) {
  const file = `${dir}/data.bin`;
  await Deno.writeFile(file, randomBytes(size));
  const { backup, staging, pausedAt } = await startStoppedMidRead(file, size, `${dir}/b`, [
    "--compress",
    compression,
    "--json",
  ]);
  try {
    try {
      await change(file);
    } finally {
      resume(backup);
    }
    const r = await backup.result;
    assert.equal(r.code, 0, r.stderr);
    return { result: JSON.parse(r.stdout), pausedAt, reads: staging.reads().length };
  } finally {
    resume(backup);
    await backup.result;
    await staging.stop();
  }
}

/** Asserts the backup at `result.path` restores to `expected` and is marked clean. */
async function assertCleanBackupOf(
  result: { path: string; changedWhileRead: boolean },
  expected: Uint8Array,
  dir: string,
): Promise<void> {
  assert.equal(result.changedWhileRead, false);
  assert.equal((await readMetadata(result.path)).changedWhileRead, false);
  const want = sha256Hex(expected);
  assert.equal(
    sha256Hex(await decompressed(result.path)),
    want,
    "gunzip / zstd -d give the final content",
  );
  const restored = await tinybackup(["restore", result.path, "--to", `${dir}/restored`]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(sha256Hex(await Deno.readFile(`${dir}/restored`)), want, "restore gives it too");
}

Deno.test("faults: a writer scribbling in place (same size) fails the run after every retry, and nothing is recorded", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/busy.db`;
  const dest = `${dir.path}/b`;
  const size = 8 * MiB;
  const original = randomBytes(size);
  await Deno.writeFile(file, original);
  const writer = startScribbler(file, size);
  const staging = watchStaging(dest);
  let r, seconds;
  try {
    const start = Date.now();
    r = await tinybackup(["--file", file, "--dest", dest]);
    seconds = (Date.now() - start) / 1000;
  } finally {
    await stopProcess(writer);
    await staging.stop();
  }
  assertCleanFailure(r);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(`error: ${file} kept changing while it was read \\(${TRIES} tries\\); no backup`),
  );
  assert.match(r.stderr, /hint: .*--allow-changing/);
  assert.equal(staging.reads().length, TRIES, "every try read the file again");
  assert.ok(seconds * 1000 >= RETRY_WAIT_MS, `it waited between tries (${seconds} s)`);
  await assertNothingRecorded(dest);
  const after = await Deno.stat(file);
  assert.equal(after.size, size, "the writer kept the size: only content and mtime told");
  assert.notEqual(sha256Hex(await Deno.readFile(file)), sha256Hex(original), "the writer wrote");
  console.log(
    `faults/changing: in-place writer (size kept): ${TRIES} tries in ${
      seconds.toFixed(1)
    } s, exit 1, nothing recorded`,
  );
});

// Uncompressed, the store may copy the file in the kernel beside the read that
// hashes it: what is kept must still be exactly what its metadata says.
for (const compression of ["gzip", "none"]) {
  withGunzip.test(`faults: with --allow-changing (${compression}) the last read is kept, and metadata, --json, list and list --json mark it`, async () => {
    await using dir = await tempDir();
    const file = `${dir.path}/busy.db`;
    const dest = `${dir.path}/b`;
    // Uncompressed reads are fast: a bigger file keeps each read long enough for the writer to hit.
    const size = (compression === "none" ? 32 : 8) * MiB;
    await Deno.writeFile(file, randomBytes(size));
    const writer = startScribbler(file, size);
    const staging = watchStaging(dest);
    let r;
    try {
      r = await tinybackup([
        "--file",
        file,
        "--dest",
        dest,
        "--compress",
        compression,
        "--allow-changing",
        "--json",
      ]);
    } finally {
      await stopProcess(writer);
      await staging.stop();
    }
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^tinybackup: warning: .*changing/m);
    assert.equal(staging.reads().length, TRIES, "it is kept only after every retry failed");
    const kept = JSON.parse(r.stdout);
    assert.equal(kept.changedWhileRead, true);
    assert.equal((await readMetadata(kept.path)).changedWhileRead, true);
    const content = await decompressed(kept.path);
    assert.equal(content.length, size);
    assert.equal(sha256Hex(content), kept.sha256, "what was kept is what its metadata says");

    // Once the writer has stopped, a plain run makes a clean backup beside it.
    const clean = await tinybackup([
      "--file",
      file,
      "--dest",
      dest,
      "--compress",
      compression,
      "--json",
    ]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stderr, "");
    const cleanPath = JSON.parse(clean.stdout).path;
    assert.notEqual(cleanPath, kept.path);
    await assertCleanBackupOf(JSON.parse(clean.stdout), await Deno.readFile(file), dir.path);

    const listed = await tinybackup(["list", "--dest", dest, "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const marks = Object.fromEntries(
      JSON.parse(listed.stdout).map((b: { path: string; changedWhileRead: boolean }) => [
        b.path,
        b.changedWhileRead,
      ]),
    );
    assert.deepEqual(marks, { [kept.path]: true, [cleanPath]: false });
    const lines = (await tinybackup(["list", "--dest", dest])).stdout.trimEnd().split("\n");
    assert.deepEqual(lines.map((l) => l.endsWith("(changed while read)")), [false, true]);
    const verify = await tinybackup(["verify", "--dest", dest]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    console.log(
      `faults/changing: --allow-changing (${compression}): kept after ${TRIES} tries, marked in metadata, --json and list, verify passes`,
    );
  });
}

// Each case takes another compression: zstd, none (which may copy in the kernel) and gzip.
withZstd.test("faults: a file truncated mid-read is read again, and the backup holds the truncated content", async () => {
  await using dir = await tempDir();
  const truncatedSize = MiB + 123;
  const { result, pausedAt } = await changeMidRead(dir.path, "zstd", async (file) => {
    await run("truncate", ["-s", String(truncatedSize), file]);
  });
  // pausedAt > truncatedSize: a read that missed the truncation would hold more.
  assert.ok(pausedAt > truncatedSize);
  assert.equal(result.size, truncatedSize);
  await assertCleanBackupOf(result, await Deno.readFile(`${dir.path}/data.bin`), dir.path);
  console.log(
    `faults/changing: truncated to 1 MiB (zstd) when ${
      (pausedAt / MiB).toFixed(0)
    } of 64 MiB were read: read again, backup holds the truncated file`,
  );
});

Deno.test("faults: a file appended to mid-read is read again, and the backup holds all of it", async () => {
  await using dir = await tempDir();
  // Uncompressed, a read runs at some 1.5 GB/s: the stop lands up to some
  // 40 MiB late when the watcher waits for a core, and must still be mid-read.
  const size = 128 * MiB;
  const tail = randomBytes(8 * MiB);
  const { result, pausedAt, reads } = await changeMidRead(dir.path, "none", async (file) => {
    await run("sh", ["-c", 'cat >> "$1"', "sh", file], tail);
  }, size);
  assert.equal(reads, 2, "the read that saw the append was not kept; a second read was");
  assert.equal(result.size, size + tail.length);
  const final = await Deno.readFile(`${dir.path}/data.bin`);
  assert.ok(sameBytes(final.subarray(size), tail));
  await assertCleanBackupOf(result, final, dir.path);
  console.log(
    `faults/changing: 8 MiB appended (none) when ${(pausedAt / MiB).toFixed(0)} of ${
      size / MiB
    } MiB were read: ${reads} reads, backup holds all ${(size + tail.length) / MiB} MiB`,
  );
});

/**
 * Backs up `file` (`size` bytes of it, written fresh) into a destination
 * that already holds a good backup of the same file (made from `earlier`),
 * with --keep 1; stops the backup mid-read, lets `swap` put something else
 * at the path, and resumes it. Returns the run, the destination, and the
 * earlier backup's path.
 */
async function swapMidRead(
  dir: string,
  swap: (file: string) => Promise<void>,
  size = 32 * MiB,
): Promise<{ r: Run; dest: string; earlier: string; reads: number }> {
  const file = `${dir}/data.bin`;
  let earlier = "";
  const makeEarlier = async (dest: string) => {
    await Deno.writeTextFile(file, "the good earlier version\n");
    const r = await tinybackup(["--file", file, "--dest", dest]);
    assert.equal(r.code, 0, r.stderr);
    earlier = r.stdout.trim();
    await Deno.writeFile(file, randomBytes(size));
  };
  const stopped = await startStoppedMidRead(file, size, `${dir}/b`, ["--keep", "1"], makeEarlier);
  const { backup, staging } = stopped;
  try {
    try {
      await swap(file);
    } finally {
      resume(backup);
    }
    return { r: await backup.result, dest: stopped.dest, earlier, reads: staging.reads().length };
  } finally {
    resume(backup);
    await backup.result;
    await staging.stop();
  }
}

/** Asserts the run failed cleanly, and the destination holds the earlier backup and nothing more. */
async function assertOnlyEarlier(
  { r, dest, earlier }: { r: Run; dest: string; earlier: string },
  message: RegExp,
): Promise<void> {
  assertCleanFailure(r);
  assert.match(r.stderr, message);
  assert.deepEqual(await visibleFiles(dest), [earlier.split("/").pop()]);
  assert.equal(
    new TextDecoder().decode(await run("gunzip", ["-c", earlier])),
    "the good earlier version\n",
  );
  assert.deepEqual([...Deno.readDirSync(`${dest}/.tinybackup/tmp`)], [], "nothing left staged");
}

withGunzip.test("faults: a file replaced by rename mid-read (the open handle keeps the old inode) fails the run: the retry never reads another file", async () => {
  await using dir = await tempDir();
  // Same size and mtime as the file it replaces: only the inode (and ctime) tell.
  const swapped = await swapMidRead(dir.path, async (file) => {
    await Deno.writeFile(`${file}.new`, randomBytes(32 * MiB));
    await run("touch", ["-r", file, `${file}.new`]);
    await run("mv", [`${file}.new`, file]);
  });
  await assertOnlyEarlier(swapped, /data\.bin was replaced by another file while it was backed up/);
  console.log(
    `faults/changing: replaced by rename mid-read: ${swapped.reads} read(s), the new file never read; exit 1, the earlier backup kept`,
  );
});

withGunzip.test("faults: a file replaced by a FIFO mid-read fails the run: no empty backup rotates the good one away", async () => {
  await using dir = await tempDir();
  let writer: Deno.ChildProcess | undefined;
  const swapped = await swapMidRead(dir.path, async (file) => {
    await Deno.remove(file);
    await run("mkfifo", [file]);
    // A writer that writes nothing: a reader that opened the FIFO would read 0 bytes.
    writer = new Deno.Command("timeout", { args: ["20", "sh", "-c", ': > "$1"', "sh", file] })
      .spawn();
  });
  try {
    await assertOnlyEarlier(swapped, /data\.bin was replaced by a FIFO while it was backed up/);
  } finally {
    try {
      writer?.kill("SIGKILL");
    } catch {
      // It ended already.
    }
    await writer?.status;
  }
  console.log(
    "faults/changing: replaced by a FIFO mid-read: exit 1, no 0-byte backup, the earlier backup kept",
  );
});

withGunzip.test("faults: a file replaced by a symbolic link to another file mid-read fails the run", async () => {
  await using dir = await tempDir();
  const secret = `${dir.path}/secret`;
  await Deno.writeTextFile(secret, "not meant for this backup\n");
  const swapped = await swapMidRead(dir.path, async (file) => {
    await Deno.remove(file);
    await Deno.symlink(secret, file);
  });
  await assertOnlyEarlier(swapped, /data\.bin was replaced by another file while it was backed up/);
});

withGunzip.test("faults: a file emptied mid-read fails the run unless --allow-empty: an empty read never rotates away a good backup", async () => {
  await using dir = await tempDir();
  const swapped = await swapMidRead(dir.path, (file) => Deno.truncate(file, 0));
  await assertOnlyEarlier(
    swapped,
    /data\.bin held 33554432 bytes when the run began, but was empty when read; no backup was made\n.*hint: pass --allow-empty/,
  );
  // Asked for, the empty backup is made (the file is empty now from the start, so no flag is needed).
  const r = await tinybackup([
    "--file",
    `${dir.path}/data.bin`,
    "--dest",
    swapped.dest,
    "--keep",
    "1",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await run("gunzip", ["-c", r.stdout.trim()])).length, 0);
});

withZstd.test("faults: a writer that stops after the first try: the retry succeeds with the final content", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/data.bin`;
  const dest = `${dir.path}/b`;
  const size = 32 * MiB;
  const original = randomBytes(size);
  await Deno.writeFile(file, original);
  // The writer starts while the first read is stopped in its middle, so it surely hits that read.
  const { backup, staging } = await startStoppedMidRead(file, size, dest, [
    "--compress",
    "zstd",
    "--json",
  ]);
  let writer: Deno.ChildProcess | undefined;
  try {
    const mtime = (await Deno.stat(file)).mtime?.getTime();
    writer = startScribbler(file, size);
    while ((await Deno.stat(file)).mtime?.getTime() === mtime) await sleep(2);
    await sleep(20);
    resume(backup);
    // The first read ends when the file is closed; stop the writer in the wait after it.
    while ((await readPosition(backup.pid, file)) !== undefined) await sleep(1);
    await stopProcess(writer);
    const r = await backup.result;
    assert.equal(r.code, 0, r.stderr);
    const final = await Deno.readFile(file);
    assert.notEqual(sha256Hex(final), sha256Hex(original), "the writer wrote");
    assert.equal(final.length, size);
    const reads = staging.reads().length;
    assert.ok(reads >= 2, `the first read, made while the writer wrote, was not kept (${reads})`);
    await assertCleanBackupOf(JSON.parse(r.stdout), final, dir.path);
    console.log(
      `faults/changing: writer stopped after the first try (zstd): ${reads} reads, restored bytes equal the final file`,
    );
  } finally {
    if (writer) await stopProcess(writer);
    resume(backup);
    await backup.result;
    await staging.stop();
  }
});

/** What must not change about a file: everything stat shows but its access time. */
async function statLine(path: string): Promise<string> {
  const out = await run("stat", [
    "-c",
    "size=%s mode=%a owner=%u:%g inode=%i links=%h mtime=%y ctime=%z",
    path,
  ]);
  return new TextDecoder().decode(out).trim();
}

withBoth.test("faults: no disturbance of the source: content, mtime, ctime, mode, owner, inode and its folder stay as they were", async () => {
  await using dir = await tempDir();
  const home = `${dir.path}/home`;
  const file = `${home}/notes.db`;
  const dest = `${dir.path}/b`;
  await Deno.mkdir(home);
  const content = randomBytes(4 * MiB);
  await Deno.writeFile(file, content);
  await Deno.chmod(file, 0o640);
  if (Deno.uid() === 0) await Deno.chown(file, 65534, 65534);
  const old = new Date("2021-03-04T05:06:07.891Z");
  await Deno.utime(file, old, old);
  await sleep(20); // ctime is now in the past: anything that touched it would show
  const before = await statLine(file);
  const folderBefore = await statLine(home);
  const runs = [
    ["--file", file, "--dest", dest],
    ["--file", file, "--dest", dest], // unchanged: read again, no new copy
    ["--file", file, "--dest", dest, "--compress", "zstd", "--force"],
    ["--file", file, "--dest", dest, "--compress", "none", "--force", "--keep", "2"],
    ["--file", file, "--dest", dest, "--dry-run"],
  ];
  for (const args of runs) {
    const r = await tinybackup(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await statLine(file), before, `after tinybackup ${args.join(" ")}`);
  }
  assert.equal(await statLine(home), folderBefore, "nothing was created next to the source");
  assert.deepEqual([...Deno.readDirSync(home)].map((e) => e.name), ["notes.db"]);
  assert.ok(sameBytes(await Deno.readFile(file), content));
  for (const name of await visibleFiles(dest)) {
    assert.ok(sameBytes(await decompressed(`${dest}/${name}`), content));
  }
  console.log(
    `faults/changing: ${runs.length} runs (gzip, unchanged, zstd, none with rotation, dry run): source stat unchanged (${before})`,
  );
});

/** Whether /proc/locks shows any lock on the file with inode `ino`, and any lock by `pid`. */
async function locksOn(ino: number, pid: number): Promise<{ file: boolean; byPid: boolean }> {
  const locks = new TextDecoder().decode(await run("cat", ["/proc/locks"])).split("\n");
  return {
    file: locks.some((l) => new RegExp(` [0-9a-f]+:[0-9a-f]+:${ino} `).test(l)),
    byPid: locks.some((l) => new RegExp(`^\\d+: \\S+\\s+\\S+\\s+\\S+ ${pid} `).test(l)),
  };
}

const withFlock = await needs("faults/changing_source_test.ts: the lock test", programs("flock"));
const withPython = await needs(
  "faults/changing_source_test.ts: the fcntl locks of the lock test (python3 takes them)",
  programs("python3"),
);
/** python3's own executable: a wrapper (pyenv's shim) may fork it, and killing the wrapper would not free its lock. */
const PYTHON = withPython.ignore ? undefined : new TextDecoder().decode(
  await run("python3", ["-c", "import sys; print(sys.executable)"]),
).trim();
const PYTHON_LOCK = `
import fcntl, sys
with open(sys.argv[1], "r+b") as f:
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.exit(3)
    f.seek(4096)
    f.write(b"fcntl lock taken")
    f.flush()
    fcntl.lockf(f, fcntl.LOCK_UN)
`;

/** Tries an exclusive lock without waiting and writes while holding it; true if both worked. */
async function lockAndWrite(kind: "flock" | "fcntl", file: string): Promise<boolean> {
  const command = kind === "flock"
    ? new Deno.Command("flock", {
      args: [
        "-x",
        "-n",
        file,
        "sh",
        "-c",
        'printf "flock lock taken" | dd of="$0" bs=1 seek=100 conv=notrunc status=none',
        file,
      ],
    })
    : new Deno.Command(PYTHON!, { args: ["-c", PYTHON_LOCK, file] });
  const { code } = await command.output();
  return code === 0;
}

/** A separate process holding a shared lock of `kind` on `file` until killed. */
async function holdSharedLock(kind: "flock" | "fcntl", file: string): Promise<Deno.ChildProcess> {
  const holder = kind === "flock"
    // The shell takes the lock on its own descriptor and keeps it as it becomes
    // sleep, so killing the one process frees the lock.
    ? new Deno.Command("sh", {
      args: ["-c", 'exec 9<"$1" && flock -s 9 && echo held && exec sleep 60', "sh", file],
      stdout: "piped",
    })
    : new Deno.Command(PYTHON!, {
      args: [
        "-c",
        'import fcntl,sys,time\nf=open(sys.argv[1],"rb")\nfcntl.lockf(f,fcntl.LOCK_SH)\nprint("held",flush=True)\ntime.sleep(60)',
        file,
      ],
      stdout: "piped",
    });
  const child = holder.spawn();
  const reader = child.stdout.getReader();
  await reader.read(); // "held"
  reader.releaseLock();
  return child;
}

const LOCK_KINDS: ("flock" | "fcntl")[] = PYTHON ? ["flock", "fcntl"] : ["flock"];

withFlock.test("faults: while a backup reads the source, another process takes an exclusive lock on it and writes", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/app.db`;
  const dest = `${dir.path}/b`;
  const size = 48 * MiB;
  await Deno.writeFile(file, randomBytes(size));
  const ino = (await Deno.stat(file)).ino!;

  // The probes can fail: with a shared lock held elsewhere, neither gets its lock.
  for (const kind of LOCK_KINDS) {
    const holder = await holdSharedLock(kind, file);
    try {
      assert.equal(await lockAndWrite(kind, file), false, `${kind} probe sees a held lock`);
    } finally {
      await stopProcess(holder);
    }
  }

  const staging = watchStaging(dest);
  const backup = startTinybackup(["--file", file, "--dest", dest, "--json"]);
  const timings: string[] = [];
  try {
    await waitUntilRead(backup, file, 8 * MiB);
    const locks = await locksOn(ino, backup.pid);
    assert.equal(locks.file, false, "/proc/locks: no lock on the source");
    assert.equal(locks.byPid, true, "/proc/locks does show tinybackup's lock on its staged file");
    for (const kind of LOCK_KINDS) {
      const posBefore = await readPosition(backup.pid, file);
      const start = performance.now();
      const locked = await lockAndWrite(kind, file);
      const ms = performance.now() - start;
      const posAfter = await readPosition(backup.pid, file);
      assert.ok(locked, `${kind}: exclusive lock and write during the backup`);
      assert.ok(ms < 2000, `${kind}: took ${ms} ms`);
      // The same read was open before and after the probe: the backup was reading throughout.
      assert.ok(
        posBefore !== undefined && posAfter !== undefined && posAfter >= posBefore &&
          posAfter < size && !backup.exited(),
        `${kind}: the backup was mid-read (${posBefore} -> ${posAfter} of ${size})`,
      );
      timings.push(`${kind} in ${ms.toFixed(0)} ms at ${(posBefore! / MiB).toFixed(0)} MiB`);
    }
    const r = await backup.result;
    assert.equal(r.code, 0, r.stderr);
    // Those writes landed mid-read, so that read was not kept: the backup is of the file after them.
    assert.ok(staging.reads().length >= 2);
    await assertCleanBackupOf(JSON.parse(r.stdout), await Deno.readFile(file), dir.path);
    console.log(
      `faults/changing: exclusive lock + write while the backup read: ${
        timings.join(", ")
      }; no lock in /proc/locks; ${staging.reads().length} reads`,
    );
  } finally {
    await backup.result;
    await staging.stop();
  }
});
