/**
 * Ctrl-C (SIGINT) and SIGTERM in the middle of a backup or a restore remove
 * the unfinished file at once and exit 130 or 143, as a shell reports such a
 * death. What a restore killed outright (SIGKILL) leaves in its target folder
 * is removed by the next restore there, but never another live restore's
 * file. Runs are stopped (SIGSTOP) at a read position seen in /proc, then
 * signalled and resumed, so the timing is certain.
 */
import assert from "node:assert/strict";
import { commandLine, tempDir, tinybackup, visibleFiles } from "../cli/_cli.ts";
import {
  MiB,
  randomBytes,
  sha256Hex,
  type Started,
  startTinybackup,
  stopAfterReading,
} from "./_races.ts";

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** Files in `folder` that are a restore's unfinished work. */
function partials(folder: string): string[] {
  return [...Deno.readDirSync(folder)].map((e) => e.name).filter((n) => n.endsWith(".partial"));
}

/** Starts `tinybackup ARGS...` and stops it once it has read `bytes` of `path`. */
async function startStopped(args: string[], path: string, bytes: number): Promise<Started> {
  const started = startTinybackup(args);
  assert.ok(
    await stopAfterReading(started.pid, path, bytes),
    `tinybackup ${args[0]} was not caught reading ${path}`,
  );
  return started;
}

function signal(started: Started, name: Deno.Signal): void {
  try {
    started.child.kill(name);
  } catch {
    // It ended already.
  }
}

/** A 64 MiB random file and its gzip backup in `dir`/b. */
async function bigBackup(dir: string): Promise<{ file: string; backup: string }> {
  const file = `${dir}/big.bin`;
  await Deno.writeFile(file, randomBytes(64 * MiB));
  const r = await tinybackup(["--file", file, "--dest", `${dir}/b`]);
  assert.equal(r.code, 0, r.stderr);
  return { file, backup: r.stdout.trim() };
}

for (const name of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`faults/signals: ${name} mid-backup removes the staged file at once and exits ${EXIT_CODES[name]}`, async () => {
    await using dir = await tempDir();
    const file = `${dir.path}/big.bin`;
    const dest = `${dir.path}/b`;
    await Deno.writeFile(file, randomBytes(64 * MiB));
    const backup = await startStopped(["--file", file, "--dest", dest], file, 8 * MiB);
    const staged = [...Deno.readDirSync(`${dest}/.tinybackup/tmp`)];
    assert.equal(staged.length, 1, "the backup is being staged");
    signal(backup, name);
    signal(backup, "SIGCONT");
    const r = await backup.result;
    assert.equal(r.code, EXIT_CODES[name], r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`^tinybackup: error: interrupted by ${name}`));
    assert.deepEqual([...Deno.readDirSync(`${dest}/.tinybackup/tmp`)], [], "nothing left staged");
    assert.deepEqual(await visibleFiles(dest), []);
  });

  Deno.test(`faults/signals: ${name} mid-restore leaves no partial file and exits ${EXIT_CODES[name]}`, async () => {
    await using dir = await tempDir();
    const { backup } = await bigBackup(dir.path);
    const target = `${dir.path}/restored`;
    await Deno.mkdir(target);
    const restore = await startStopped(["restore", backup, "--to", target], backup, 8 * MiB);
    assert.equal(partials(target).length, 1, "the restore is writing its partial file");
    signal(restore, name);
    signal(restore, "SIGCONT");
    const r = await restore.result;
    assert.equal(r.code, EXIT_CODES[name], r.stderr);
    assert.equal(r.stdout, "");
    assert.deepEqual([...Deno.readDirSync(target)], [], "neither a partial nor a restored file");
  });
}

Deno.test("faults/signals: a restore cleans up what a killed restore left in its folder, never a live one's", async () => {
  await using dir = await tempDir();
  const { file, backup } = await bigBackup(dir.path);
  const target = `${dir.path}/restored`;
  await Deno.mkdir(target);

  const killed = await startStopped(
    ["restore", backup, "--to", `${target}/killed`],
    backup,
    8 * MiB,
  );
  signal(killed, "SIGKILL");
  await killed.result;
  const left = partials(target);
  assert.equal(left.length, 1, "SIGKILL leaves the partial file");

  // A live restore, paused with its partial file half-written, beside the next one.
  const live = await startStopped(["restore", backup, "--to", `${target}/live`], backup, 8 * MiB);
  try {
    const livePartial = partials(target).find((p) => !left.includes(p))!;
    const next = await tinybackup(["restore", backup, "--to", `${target}/next`]);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(
      partials(target),
      [livePartial],
      "the killed one's went, the live one's stayed",
    );
  } finally {
    signal(live, "SIGCONT");
  }
  const r = await live.result;
  assert.equal(r.code, 0, r.stderr);
  const want = sha256Hex(await Deno.readFile(file));
  for (const name of ["live", "next"]) {
    assert.equal(sha256Hex(await Deno.readFile(`${target}/${name}`)), want, name);
  }
  assert.deepEqual(partials(target), []);
  // A file that merely looks like a partial (not named as tinybackup names them) stays.
  await Deno.writeTextFile(`${target}/.tinybackup-notes.partial`, "mine\n");
  const again = await tinybackup(["restore", backup, "--to", `${target}/again`]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(partials(target), [".tinybackup-notes.partial"]);
});

Deno.test("faults/signals: SIGTERM while a pipe stays silent ends the run at once", async () => {
  await using dir = await tempDir();
  const [program, ...args] = commandLine(["--stdin", "--name", "dump", "--dest", `${dir.path}/b`]);
  // stdin is a pipe nobody writes to: the run waits on it.
  const child = new Deno.Command(program, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  // Waiting on the pipe means its staged file exists (not merely a probe of the folder).
  const staged = () => {
    try {
      return [...Deno.readDirSync(`${dir.path}/b/.tinybackup/tmp`)].some((entry) =>
        entry.name.endsWith(".partial")
      );
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 10_000;
  while (!staged()) {
    assert.ok(Date.now() < deadline, "the run never began staging");
    await new Promise((wake) => setTimeout(wake, 20));
  }
  const sent = performance.now();
  child.kill("SIGTERM");
  const { code, stderr } = await child.output();
  const took = performance.now() - sent;
  assert.equal(code, 143, new TextDecoder().decode(stderr));
  assert.ok(took < 2000, `it took ${took.toFixed(0)} ms to stop`);
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/b/.tinybackup/tmp`)], []);
});
