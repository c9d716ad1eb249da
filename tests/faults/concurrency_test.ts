/**
 * Many tinybackup processes on one destination at once: backups of the same
 * series and of others, with rotation, beside list, verify and prune, and two
 * scheduled jobs of one series fired together. Every run succeeds or fails
 * cleanly, no name is used twice, nothing is corrupt or half-made, and the
 * keep count holds once the storm is over. Backups are read back with
 * gunzip, zstd -d and sha256, not only with tinybackup.
 */
import assert from "node:assert/strict";
import { emptyQueue, queued, runScript, takeJob } from "../_at_queue.ts";
import { needs, programs } from "../_requires.ts";
import { tempDir, textBytes, tinybackup, visibleFiles } from "../cli/_cli.ts";
import type { Run } from "../cli/_cli.ts";
import {
  assertCleanFailure,
  decompressed,
  MiB,
  randomBytes,
  readMetadata,
  sha256Hex,
  sleep,
  type Started,
  startTinybackup,
  stopAfterReading,
} from "./_races.ts";

/** Backups are read back with gunzip (and zstd -d where a run made .zst). */
const GUNZIP = programs("gunzip");
const withGunzip = await needs(
  "faults/concurrency_test.ts: the waves, the storm and the series lock",
  GUNZIP,
);
const withZstd = await needs(
  "faults/concurrency_test.ts: the zstd series of the waves (gzip stands in)",
  programs("zstd"),
);

interface BackupJson {
  path: string;
  name: string;
  time: string;
  size: number;
  sha256: string;
  unchanged: boolean;
  removed: string[];
}

/**
 * Checks a destination the way a suspicious user would: no staged leftovers,
 * every backup file has its metadata and every metadata its file, verify
 * passes, and each backup, decompressed by gunzip or zstd, has the size and
 * sha256 its metadata says. Returns how many backups each series has.
 */
async function checkDestination(dest: string): Promise<Record<string, number>> {
  assert.deepEqual([...Deno.readDirSync(`${dest}/.tinybackup/tmp`)], [], "nothing left staged");
  const files = await visibleFiles(dest);
  const metadata = [...Deno.readDirSync(`${dest}/.tinybackup`)]
    .filter((e) => e.isFile).map((e) => e.name).sort();
  assert.deepEqual(
    metadata,
    files.map((f) => `${f}.json`),
    "one metadata file per backup, no orphans",
  );
  const verify = await tinybackup(["verify", "--dest", dest]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.deepEqual(
    verify.stdout.trimEnd().split("\n").map((l) => l.slice(0, 5)).filter((l) => l !== "ok   "),
    [],
  );
  const perSeries: Record<string, number> = {};
  for (const file of files) {
    const m = await readMetadata(`${dest}/${file}`);
    const content = await decompressed(`${dest}/${file}`);
    assert.equal(content.length, m.size, `${file}: size`);
    assert.equal(sha256Hex(content), m.sha256, `${file}: sha256`);
    perSeries[m.name as string] = (perSeries[m.name as string] ?? 0) + 1;
  }
  return perSeries;
}

const WAVES = 3;

withGunzip.test("faults: 3 waves of 16 runs at once into one destination (3 series, --force, --keep 3): no collision, nothing corrupt, keep holds", async () => {
  await using dir = await tempDir();
  const dest = `${dir.path}/b`;
  await Deno.writeFile(`${dir.path}/a.db`, textBytes(100_000));
  await Deno.writeFile(`${dir.path}/c.bin`, randomBytes(2 * MiB));
  const keep = ["--keep", "3", "--json"];
  const zstd = withZstd.ignore ? "gzip" : "zstd";
  const launchesOf = (wave: number) => [
    ...Array.from({ length: 6 }, () => ({
      series: "a.db",
      args: ["--file", `${dir.path}/a.db`, "--dest", dest, "--force", ...keep],
      stdin: undefined,
    })),
    // Each run of the stdin series brings content of its own, so a mix-up would show.
    ...Array.from({ length: 5 }, (_, i) => ({
      series: "b.sql",
      args: ["--stdin", "--name", "b.sql", "--dest", dest, "--compress", zstd, "--force", ...keep],
      stdin: textBytes(20_000, wave * 10 + i),
    })),
    ...Array.from({ length: 5 }, () => ({
      series: "c.bin",
      args: [
        "--file",
        `${dir.path}/c.bin`,
        "--dest",
        dest,
        "--compress",
        "none",
        "--force",
        ...keep,
      ],
      stdin: undefined,
    })),
  ];

  const printed: string[] = [];
  const totals = { runs: 0, ok: 0, cleanFailures: 0, rotated: 0 };
  const afterWaves: string[] = [];
  for (let wave = 0; wave < WAVES; wave++) {
    const launches = launchesOf(wave);
    const started = launches.map((l) => startTinybackup(l.args, { stdin: l.stdin }));
    const runs: Run[] = await Promise.all(started.map((s) => s.result));
    totals.runs += runs.length;

    const made: (BackupJson & { stdin?: Uint8Array; series: string })[] = [];
    runs.forEach((r, i) => {
      if (r.code === 0) {
        made.push({
          ...JSON.parse(r.stdout),
          stdin: launches[i].stdin,
          series: launches[i].series,
        });
      } else {
        assertCleanFailure(r);
        totals.cleanFailures++;
      }
    });
    totals.ok += made.length;
    // No name is ever given twice, not even after rotation freed it.
    printed.push(...made.map((m) => m.path));
    assert.equal(
      new Set(printed).size,
      printed.length,
      `a path was printed twice: ${printed.sort().join(" ")}`,
    );
    const removed = new Set(made.flatMap((m) => m.removed));
    for (const m of made) {
      assert.equal(m.unchanged, false);
      assert.equal(m.name, m.series);
      const exists = await Deno.stat(m.path).then(() => true, () => false);
      if (!exists) {
        assert.ok(removed.has(m.path), `${m.path} is gone, yet no run reported rotating it`);
        totals.rotated++;
        continue;
      }
      // The path still holds this run's backup: same time and hash in its metadata.
      const metadata = await readMetadata(m.path);
      assert.equal(metadata.time, m.time, `${m.path} holds another run's backup`);
      assert.equal(metadata.sha256, m.sha256);
      if (m.stdin) assert.equal(sha256Hex(await decompressed(m.path)), sha256Hex(m.stdin));
    }
    for (const path of removed) {
      assert.ok(!(await Deno.stat(path).then(() => true, () => false)), `${path} reported removed`);
    }
    afterWaves.push(JSON.stringify(await checkDestination(dest)));
  }

  // One quiet run per series applies keep to whatever finished last.
  const [a, b, c] = [0, 6, 11].map((i) => launchesOf(WAVES)[i]);
  for (const l of [a, b, c]) {
    const r = await tinybackup(l.args, { stdin: l.stdin });
    assert.equal(r.code, 0, r.stderr);
  }
  const afterQuiet = await checkDestination(dest);
  assert.deepEqual(
    afterQuiet,
    // a.db and c.bin never change: --force makes fresh copies of their one version, and keep
    // counts versions, so one copy stays; each run of b.sql brings a version of its own.
    { "a.db": 1, "b.sql": 3, "c.bin": 1 },
    "keep 3 holds in each series",
  );
  const listed = JSON.parse((await tinybackup(["list", "--dest", dest, "--json"])).stdout);
  assert.equal(listed.length, 5);

  console.log(
    `faults/concurrency: ${WAVES} waves of 16 concurrent runs (3 series, gzip/zstd/none, --force, keep 3), ${totals.runs} runs: ${totals.ok} ok, ${totals.cleanFailures} failed cleanly, 0 names given twice, ${totals.rotated} printed backups rotated by later runs, 0 corrupt; per series after each wave ${
      afterWaves.join(" ")
    }; after one quiet run keep held (1/3/1 versions)`,
  );
});

const STORM = 12;

withGunzip.test("faults: list, verify and prune while backups run never fail nor see a half-made backup", async () => {
  await using dir = await tempDir();
  const dest = `${dir.path}/b`;
  const file = `${dir.path}/app.db`;
  await Deno.writeFile(file, randomBytes(6 * MiB));
  const first = await tinybackup(["--file", file, "--dest", dest]);
  assert.equal(first.code, 0, first.stderr);

  const backupArgs = (i: number) =>
    i % 3 === 2
      ? ["--stdin", "--name", "dump", "--dest", dest, "--keep", "3", "--json"]
      : ["--file", file, "--dest", dest, "--force", "--keep", "3", "--json"];
  const storm = Array.from({ length: STORM }, (_, i) =>
    startTinybackup(backupArgs(i), {
      stdin: i % 3 === 2 ? randomBytes(3 * MiB) : undefined,
    }));
  const stormOver = () => storm.every((s) => s.exited());

  const counts = { list: 0, verify: 0, prune: 0, within: 0, watched: 0 };
  const problems: string[] = [];
  // Each command in a loop of its own, so they start at every moment of the storm.
  const loop = async (
    what: "list" | "verify" | "prune",
    args: string[],
    check: (r: Run) => void,
  ) => {
    while (!stormOver()) {
      const r = await tinybackup([what, "--dest", dest, ...args, "--json"]);
      if (!stormOver()) counts.within++;
      counts[what]++;
      if (r.code !== 0) problems.push(`${what} exited ${r.code}: ${r.stdout}${r.stderr}`);
      if (/warning/.test(r.stderr)) problems.push(`${what} warned: ${r.stderr}`);
      if (r.code === 0 || r.code === 1) check(r);
    }
  };
  const listed: { path: string; storedSize: number }[] = [];
  const readers = Promise.all([
    loop("list", [], (r) => listed.push(...JSON.parse(r.stdout))),
    loop("verify", [], (r) => {
      for (const v of JSON.parse(r.stdout)) {
        if (!v.ok) problems.push(`verify: ${v.path}: ${v.problem}`);
      }
    }),
    loop("prune", ["--name", "app.db", "--keep", "2"], (r) => JSON.parse(r.stdout)),
  ]);
  // Meanwhile, look at the folder directly: a visible backup always has its metadata and all its bytes.
  const watcher = (async () => {
    while (!stormOver()) {
      for (const name of await visibleFiles(dest)) {
        const size = (await Deno.stat(`${dest}/${name}`).catch(() => undefined))?.size;
        const metadata = await readMetadata(`${dest}/${name}`).catch(() => undefined);
        const stillThere = await Deno.stat(`${dest}/${name}`).then(() => true, () => false);
        if (metadata === undefined && stillThere) {
          problems.push(`${name} is visible without metadata`);
        }
        if (metadata && size !== undefined && size !== metadata.storedSize) {
          problems.push(`${name} is visible with ${size} of ${metadata.storedSize} bytes`);
        }
        counts.watched++;
      }
      await sleep(5);
    }
  })();
  const runs = await Promise.all(storm.map((s) => s.result));
  await Promise.all([readers, watcher]);
  // Listed means complete: every byte there (a file is never changed once published), or removed since.
  for (const b of listed) {
    const size = (await Deno.stat(b.path).catch(() => undefined))?.size;
    if (size !== undefined && size !== b.storedSize) {
      problems.push(`list showed ${b.path} at ${size} of ${b.storedSize} bytes`);
    }
  }

  assert.deepEqual(problems, []);
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  assert.ok(counts.within >= 3, "list, verify and prune ran while backups ran");
  await checkDestination(dest);
  console.log(
    `faults/concurrency: during ${STORM} concurrent backups, ${counts.list} list, ${counts.verify} verify and ${counts.prune} prune runs (${counts.within} of them wholly within it) and ${counts.watched} direct looks: 0 failures, 0 half-made backups seen`,
  );
});

const QUEUE = "c";
/** Starts a backup of a fresh 64 MiB `file` into `dest` and stops it (SIGSTOP) mid-read, holding its series' lock. */
async function startStoppedBackup(file: string, dest: string): Promise<Started> {
  await Deno.writeFile(file, randomBytes(64 * MiB));
  const started = startTinybackup(["--file", file, "--dest", dest]);
  assert.ok(
    await stopAfterReading(started.pid, file, 8 * MiB),
    "the first run was not caught reading",
  );
  return started;
}

withGunzip.test("faults: a run of a series that another run holds waits, then exits 1 saying since when, writing nothing", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/app.db`;
  const dest = `${dir.path}/b`;
  const first = await startStoppedBackup(file, dest);
  try {
    const started = performance.now();
    const second = await tinybackup(["--file", file, "--dest", dest, "--lock-wait", "2"]);
    const waited = performance.now() - started;
    assertCleanFailure(second);
    assert.match(
      second.stderr,
      new RegExp(
        `^tinybackup: error: another run of 'app\\.db' to ${dest} has been running since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(pid ${first.pid}\\); this run made no backup\n`,
      ),
    );
    assert.ok(waited >= 2000, `it waited ${waited} ms`);
    // Another series in the same destination is not held up.
    const other = await tinybackup([
      "--stdin",
      "--name",
      "other",
      "--dest",
      dest,
      "--lock-wait",
      "0",
    ], {
      stdin: "other\n",
    });
    assert.equal(other.code, 0, other.stderr);
  } finally {
    first.child.kill("SIGCONT");
  }
  const r = await first.result;
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await visibleFiles(dest)).filter((f) => f.startsWith("app.db.")).length, 1);
  await checkDestination(dest);
});

withGunzip.test("faults: a source made private while its run waits for the lock gets a private backup", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/app.db`;
  const dest = `${dir.path}/b`;
  const first = await startStoppedBackup(file, dest);
  await Deno.chmod(file, 0o644);
  const second = startTinybackup(["--file", file, "--dest", dest, "--force", "--json"]);
  try {
    // The second run is waiting for the first's lock: made private now, the source must stay so.
    await sleep(1000);
    assert.ok(!second.exited(), "the second run waits");
    await Deno.chmod(file, 0o600);
  } finally {
    first.child.kill("SIGCONT");
  }
  assert.equal((await first.result).code, 0);
  const r = await second.result;
  assert.equal(r.code, 0, r.stderr);
  const { path } = JSON.parse(r.stdout);
  assert.equal((Deno.statSync(path).mode! & 0o777).toString(8), "400");
});

withGunzip.test("faults: a run killed while it held its series' lock never blocks the next run", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/app.db`;
  const dest = `${dir.path}/b`;
  const killed = await startStoppedBackup(file, dest);
  killed.child.kill("SIGKILL");
  await killed.result;
  const next = await tinybackup(["--file", file, "--dest", dest, "--lock-wait", "0"]);
  assert.equal(next.code, 0, next.stderr);
  await checkDestination(dest);
});

const withAtAndGunzip = await needs(
  "faults/concurrency_test.ts: scheduled jobs fired together",
  programs("at", "atq", "atrm"),
  GUNZIP,
);

Deno.test({
  name:
    "faults: two scheduled jobs of one series fired at the same moment, twice, do not corrupt each other",
  ignore: withAtAndGunzip.ignore,
  async fn() {
    await emptyQueue(QUEUE);
    await using dir = await tempDir();
    const env = { TINYBACKUP_AT_QUEUE: QUEUE, XDG_STATE_HOME: `${dir.path}/state` };
    const cli = (args: string[]) => tinybackup(args, { env });
    try {
      const file = `${dir.path}/notes.db`;
      const dest = `${dir.path}/b`;
      await Deno.writeFile(file, randomBytes(24 * MiB));
      for (const every of ["1h", "2h"]) {
        const r = await cli([
          "--file",
          file,
          "--dest",
          dest,
          "--every",
          every,
          "--keep",
          "2",
          "--schedule-only",
        ]);
        assert.equal(r.code, 0, r.stderr);
      }
      const jobs = async () => JSON.parse((await cli(["jobs", "--json"])).stdout);
      const ids = (await jobs()).map((j: { id: string }) => j.id).sort();
      assert.equal(ids.length, 2, "two jobs of the same file and destination");

      const contents = [await Deno.readFile(file), randomBytes(24 * MiB)];
      const made: string[] = [];
      for (const [round, content] of contents.entries()) {
        await Deno.writeFile(file, content);
        // Both fire at once: their scripts, taken off the queue, run side by side.
        const scripts = [];
        for (const n of await queued(QUEUE)) scripts.push(await takeJob(n));
        assert.equal(scripts.length, 2);
        const ran = await Promise.all(scripts.map((script) => runScript(script)));
        for (const r of ran) {
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stderr, "", "a good run prints nothing");
        }
        // Each queued exactly one successor: two jobs, no more, no fewer.
        const now = await jobs();
        assert.deepEqual(now.map((j: { id: string }) => j.id).sort(), ids);
        assert.equal(
          (await queued(QUEUE)).length,
          2,
          `round ${round}: each job queued one successor`,
        );
        for (const j of now) assert.match(j.lastRun.result, /^(ok|unchanged)$/);

        const log = await cli(["log", "--json"]);
        const records = JSON.parse(log.stdout).slice(-2);
        assert.deepEqual(records.map((r: { id: string }) => r.id).sort(), ids);
        for (const record of records) {
          assert.match(record.result, /^(ok|unchanged)$/, record.message);
          assert.ok(sameContent(await decompressed(record.path), content), record.path);
          if (record.result === "ok") made.push(record.path);
        }
        const restored = await cli(["restore", records[0].path, "--to", `${dir.path}/r${round}`]);
        assert.equal(restored.code, 0, restored.stderr);
        assert.ok(sameContent(await Deno.readFile(`${dir.path}/r${round}`), content));
      }
      assert.equal(made.length, new Set(made).size, "no two runs made the same backup name");
      // Every line of the run log is whole: concurrent appends did not interleave.
      const raw = await Deno.readTextFile(`${dir.path}/state/tinybackup/runs.log`);
      const lines = raw.trimEnd().split("\n");
      assert.equal(lines.length, 4);
      for (const line of lines) JSON.parse(line);
      const perSeries = await checkDestination(dest);
      assert.ok(
        perSeries["notes.db"] >= 2 && perSeries["notes.db"] <= 3,
        JSON.stringify(perSeries),
      );
      console.log(
        `faults/concurrency: 2 scheduled jobs of one series fired together twice: 4 runs ok, ${made.length} backups made, names distinct, each job re-queued once per run, run log whole, verify passes`,
      );
    } finally {
      await emptyQueue(QUEUE);
    }
  },
});

function sameContent(a: Uint8Array, b: Uint8Array): boolean {
  return sha256Hex(a) === sha256Hex(b);
}
