/**
 * Crash at any moment (issue 5, item 1). A backup of a 64 MiB text file is
 * killed with SIGKILL at moments chosen by watching its progress in the
 * destination, never by guessing times: while it starts, while its staged
 * file grows, while its metadata and backup file are published, and while its
 * rotation removes 200 old backups. After every kill, `list` shows only
 * complete backups, `verify` passes, no earlier backup is lost (except old
 * ones the killed run's own rotation was entitled to remove), nothing partial
 * is visible, and the next normal run succeeds and clears what was left.
 *
 * The phase a kill hit is read from what the run left, not from when the kill
 * was sent: one staged file is staging; a second one (its metadata), new
 * metadata or a new backup file is publishing; old backups going is rotation.
 * The old backups are copies of one real backup whose metadata is rewritten
 * with lib's own formatMetadata; everything else goes through the CLI.
 */
import assert from "node:assert/strict";
import { basename } from "node:path";
import { type BackupMetadata, formatMetadata, parseMetadata } from "../../lib/backup/metadata.ts";
import { backupFileName, type Compression } from "../../lib/backup/naming.ts";
import { needs, programs } from "../_requires.ts";
import { commandLine, tempDir, textBytes, tinybackup } from "../cli/_cli.ts";
import {
  assertNoLeftovers,
  assertOnlyBackupsVisible,
  assertReadableByStandardTools,
  assertVerifies,
  fileNames,
  listBackups,
  type Listed,
} from "./_aftermath.ts";

const MiB = 1024 * 1024;
const SOURCE_SIZE = 64 * MiB;
const KEEP = 2;
/** Old backups in the series before each kill, so that rotation takes a while. */
const OLD_BACKUPS = 200;
/** A staged file as a killed run leaves it, planted before each run. */
const PLANTED_STAGED = "0dead000-0000-4000-8000-000000000000.partial";
/** A probe file (see LocalStore.prepare) as a killed run leaves it, planted before each run. */
const PLANTED_PROBE = ".tinybackup-probe-0dead000-0000-4000-8000-000000000000";
/** The series: the source file's name. */
const SERIES = "app.log";
/** Planted metadata whose backup file never appeared. */
const ORPHAN_TIME = "2000-01-01T00:00:00.000Z";
const ORPHAN_FILE = backupFileName(SERIES, new Date(ORPHAN_TIME), 1, "gzip");

type Phase = "start" | "staging" | "publish" | "rotation";

/** What the destination shows of a run in progress, seen from outside. */
interface Progress {
  /** Milliseconds since the run was started. */
  elapsed: number;
  /** Sizes of the files the run stages in .tinybackup/tmp. */
  staged: number[];
  /** Whether the planted staged file (a killed run's leftover) is gone. */
  plantedGone: boolean;
  /** Metadata files that were not there before the run. */
  newMetadata: number;
  /** Visible files that were not there before the run. */
  newFiles: number;
  /** Backup files that were there before the run and are gone. */
  filesGone: number;
  /** Metadata files of backups that were there before the run and are gone. */
  metadataGone: number;
}

/** What a run is measured against. */
interface Expected {
  /** The size the staged backup file reaches. */
  storedSize: number;
  /** How many old backups the run's rotation removes. */
  doomed: number;
}

interface KillPoint {
  /** The phase the kill is aimed at; the phase hit is read from what the run left. */
  aim: Phase;
  label: string;
  compression: Compression;
  /** Kill as soon as this holds. */
  when: (progress: Progress, expected: Expected) => boolean;
}

const stagingAt = (compression: Compression, fraction: number): KillPoint => ({
  aim: "staging",
  label: `${compression} staged file at ${Math.round(fraction * 100)}%`,
  compression,
  when: (p, e) => p.staged.length > 0 && Math.max(...p.staged) >= fraction * e.storedSize,
});

/**
 * Where to kill. Most runs that must get far compress with zstd or not at
 * all, so that the whole test takes about a minute on two cores.
 */
const KILL_POINTS: KillPoint[] = [
  { aim: "start", label: "just spawned", compression: "gzip", when: () => true },
  { aim: "start", label: "40 ms in", compression: "gzip", when: (p) => p.elapsed >= 40 },
  { aim: "start", label: "100 ms in", compression: "zstd", when: (p) => p.elapsed >= 100 },
  {
    aim: "start",
    label: "removing a killed run's leftovers",
    compression: "gzip",
    when: (p) => p.plantedGone,
  },
  ...[0, 0.4, 0.8].map((f) => stagingAt("gzip", f)),
  ...[0.2, 0.6, 0.95].map((f) => stagingAt("zstd", f)),
  // At 100% the bytes are all written and are being fsynced.
  ...[0.3, 0.7, 1].map((f) => stagingAt("none", f)),
  {
    aim: "publish",
    label: "metadata staged",
    compression: "none",
    when: (p) => p.staged.length > 1,
  },
  {
    aim: "publish",
    label: "metadata published",
    compression: "zstd",
    when: (p) => p.newMetadata > 0,
  },
  {
    aim: "publish",
    label: "metadata published",
    compression: "gzip",
    when: (p) => p.newMetadata > 0,
  },
  {
    aim: "publish",
    label: "backup file published",
    compression: "none",
    when: (p) => p.newFiles > 0,
  },
  {
    aim: "publish",
    label: "backup file published",
    compression: "zstd",
    when: (p) => p.newFiles > 0,
  },
  ...([[1, "gzip"], [60, "zstd"], [140, "none"]] as const).map(([n, compression]): KillPoint => ({
    aim: "rotation",
    label: `${n} old backup files removed`,
    compression,
    when: (p) => p.filesGone >= n,
  })),
  {
    aim: "rotation",
    label: "all old backup files removed",
    compression: "zstd",
    when: (p, e) => p.filesGone >= e.doomed,
  },
  ...([[1, "none"], [100, "zstd"]] as const).map(([n, compression]): KillPoint => ({
    aim: "rotation",
    label: `metadata of ${n} old backups removed`,
    compression,
    when: (p) => p.metadataGone >= n,
  })),
];

/** A backup as far as this test needs to know it. */
interface Known {
  file: string;
  time: string;
  generation: number;
  sha256: string;
}

/** Writes `bytes` of log lines: compresses like a log file (about 6:1), not like zeros. */
function writeLogFile(path: string, bytes: number): void {
  using file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const verbs = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
  let written = 0;
  for (let line = 0; written < bytes;) {
    let text = "";
    while (text.length < MiB) {
      const time = new Date(Date.UTC(2026, 0, 1) + line * 37).toISOString();
      text += `${time} INFO req=${line} ${verbs[line % 6]} /api/items/${line % 977} status=200 ` +
        `bytes=${(line * 7919) % 50000}\n`;
      line++;
    }
    const chunk = encoder.encode(text).subarray(0, bytes - written);
    for (let done = 0; done < chunk.length;) done += file.writeSync(chunk.subarray(done));
    written += chunk.length;
  }
}

/**
 * Old backups of the series, made by copying a real small backup under
 * earlier times, its metadata rewritten for each the way tinybackup writes it
 * (formatMetadata, so any checksum in it holds); their content is that of the
 * small backup, so verify checks each of them for real.
 */
class OldBackups {
  readonly known: Known[];

  constructor(
    private readonly dest: string,
    private readonly bytes: Uint8Array,
    private readonly metadata: BackupMetadata,
  ) {
    this.known = Array.from({ length: OLD_BACKUPS }, (_, i) => {
      const time = new Date(Date.UTC(2001, 0, 1) + i * 60_000);
      return {
        file: backupFileName(SERIES, time, 1, "gzip"),
        time: time.toISOString(),
        generation: metadata.generation,
        sha256: metadata.sha256!,
      };
    });
  }

  /** Puts back every old backup rotation removed, and leftovers as killed runs leave them. */
  restore(): void {
    for (const { file, time } of this.known) {
      const metadataPath = `${this.dest}/.tinybackup/${file}.json`;
      if (isThere(`${this.dest}/${file}`) && isThere(metadataPath)) continue;
      Deno.writeFileSync(`${this.dest}/${file}`, this.bytes, { mode: 0o644 });
      this.#writeMetadata(file, time);
    }
    Deno.writeFileSync(`${this.dest}/.tinybackup/tmp/${PLANTED_STAGED}`, textBytes(1000));
    // The empty files a run killed while checking the destination can write to leaves.
    for (const folder of [this.dest, `${this.dest}/.tinybackup`]) {
      Deno.writeFileSync(`${folder}/${PLANTED_PROBE}`, new Uint8Array());
    }
    // Metadata whose backup file never appeared: a run killed while publishing.
    this.#writeMetadata(ORPHAN_FILE, ORPHAN_TIME);
  }

  #writeMetadata(file: string, time: string): void {
    const text = formatMetadata({ ...this.metadata, file, time });
    Deno.writeTextFileSync(`${this.dest}/.tinybackup/${file}.json`, text, { mode: 0o600 });
  }
}

function isThere(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Reads the run's progress from the destination; cheap and synchronous, so it can poll. */
function observe(dest: string, before: readonly Known[], started: number): Progress {
  const staged: number[] = [];
  let plantedGone = true;
  for (const entry of Deno.readDirSync(`${dest}/.tinybackup/tmp`)) {
    if (entry.name === PLANTED_STAGED) {
      plantedGone = false;
      continue;
    }
    if (!entry.name.endsWith(".partial")) continue;
    try {
      staged.push(Deno.statSync(`${dest}/.tinybackup/tmp/${entry.name}`).size);
    } catch (error) {
      // Published and closed between the listing and the stat.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  const files = new Set<string>();
  for (const entry of Deno.readDirSync(dest)) {
    if (!entry.name.startsWith(".")) files.add(entry.name);
  }
  const metadata = new Set<string>();
  for (const entry of Deno.readDirSync(`${dest}/.tinybackup`)) {
    if (entry.name.endsWith(".json")) metadata.add(entry.name.slice(0, -".json".length));
  }
  const beforeFiles = new Set(before.map((b) => b.file));
  return {
    elapsed: performance.now() - started,
    staged,
    plantedGone,
    newMetadata: [...metadata].filter((m) => !beforeFiles.has(m) && m !== ORPHAN_FILE).length,
    newFiles: [...files].filter((f) => !beforeFiles.has(f)).length,
    filesGone: before.filter((b) => !files.has(b.file)).length,
    metadataGone: before.filter((b) => !metadata.has(b.file)).length,
  };
}

/** The phase a killed run was in, read from what it left; "done" when it had finished. */
function phaseOf(left: Progress, expected: Expected): Phase | "done" {
  if (left.filesGone > 0 || left.metadataGone > 0) {
    const finished = left.filesGone === expected.doomed && left.metadataGone === expected.doomed;
    return finished ? "done" : "rotation";
  }
  if (left.newFiles > 0 || left.newMetadata > 0 || left.staged.length > 1) return "publish";
  return left.staged.length === 1 ? "staging" : "start";
}

/**
 * Starts `tinybackup ARGS...`, polls the destination every millisecond or
 * so, and kills the run with SIGKILL as soon as `when` holds.
 * @returns whether the kill is what ended the run, and how the run ended
 */
async function runAndKill(
  args: string[],
  when: (progress: Progress) => boolean,
  dest: string,
  before: readonly Known[],
): Promise<{ killed: boolean; code: number; stderr: string }> {
  const [program, ...rest] = commandLine(args);
  const started = performance.now();
  const child = new Deno.Command(program, {
    args: rest,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const output = child.output().finally(() => exited = true);
  while (!exited) {
    if (when(observe(dest, before, started))) {
      try {
        child.kill("SIGKILL");
      } catch {
        // It exited on its own in between; its status says so.
      }
      break;
    }
    await new Promise((wake) => setTimeout(wake, 1));
  }
  const { code, signal, stderr } = await output;
  return { killed: signal === "SIGKILL", code, stderr: new TextDecoder().decode(stderr) };
}

/**
 * What rotation keeps of `backups`: the newest copy of each of the `count`
 * newest versions (contents), newest by generation, then time.
 */
function newest(backups: readonly Known[], count: number): string[] {
  const sorted = [...backups].sort((a, b) =>
    b.generation - a.generation || (a.time < b.time ? 1 : a.time > b.time ? -1 : 0) ||
    (a.file < b.file ? 1 : -1)
  );
  const versions = new Set<string>();
  const kept: string[] = [];
  for (const b of sorted) {
    if (versions.has(b.sha256) || versions.size === count) continue;
    versions.add(b.sha256);
    kept.push(b.file);
  }
  return kept;
}

const known = (listed: readonly Listed[]): Known[] =>
  listed.map((b) => ({
    file: basename(b.path),
    time: b.time,
    generation: b.generation,
    sha256: b.sha256,
  }));

/** What each kill left is read with gunzip -t and zstd -t too. */
const withGunzipAndZstd = await needs("faults/crash_test.ts", programs("gunzip", "zstd"));

withGunzipAndZstd.test("a backup killed at any moment loses nothing, and the next run clears what it left", async () => {
  await using dir = await tempDir();
  const source = `${dir.path}/${SERIES}`;
  const dest = `${dir.path}/dest`;

  // A small backup of the same file, copied to make the old backups.
  await Deno.writeFile(source, textBytes(200));
  const small = await tinybackup(["--file", source, "--dest", dest, "--keep", "0"]);
  assert.equal(small.code, 0, small.stderr);
  const smallFile = basename(small.stdout.trim());
  const old = new OldBackups(
    dest,
    await Deno.readFile(`${dest}/${smallFile}`),
    parseMetadata(await Deno.readTextFile(`${dest}/.tinybackup/${smallFile}.json`), smallFile),
  );

  writeLogFile(source, SOURCE_SIZE);
  const storedSize = {} as Record<Compression, number>;
  let sha256 = "";
  for (const compression of ["gzip", "zstd", "none"] as const) {
    const made = await tinybackup([
      ...["--file", source, "--dest", dest, "--keep", "0", "--force", "--json"],
      ...["--compress", compression],
    ]);
    assert.equal(made.code, 0, made.stderr);
    ({ storedSize: storedSize[compression], sha256 } = JSON.parse(made.stdout));
  }
  assert.ok(storedSize.gzip < SOURCE_SIZE / 2, "the source should compress like text");

  old.restore();
  const all = await listBackups(dest);
  assert.equal(all.length, OLD_BACKUPS + 4, "the copied old backups are not taken as valid");
  const oldFiles = new Set(old.known.map((b) => b.file));
  let current = all.filter((b) => !oldFiles.has(basename(b.path)));

  /** Runs a backup, kills it at `point`, checks what it left and that the next run clears it. */
  async function killAndRecover(point: KillPoint): Promise<Phase | "done" | "not killed"> {
    const what = `${point.label} (${point.compression})`;
    old.restore();
    const before = [...known(current), ...old.known];
    const expected: Expected = {
      storedSize: storedSize[point.compression],
      doomed: before.length - (KEEP - 1),
    };
    const args = [
      ...["--file", source, "--dest", dest, "--keep", String(KEEP), "--force"],
      ...["--compress", point.compression],
    ];
    const run = await runAndKill(args, (p) => point.when(p, expected), dest, before);
    if (!run.killed) assert.equal(run.code, 0, `${what}: ${run.stderr}`);
    const phase = phaseOf(observe(dest, before, 0), expected);

    // What the kill left: the backups there before, plus at most the new one, complete.
    const listed = await listBackups(dest);
    await assertOnlyBackupsVisible(dest, listed);
    const beforeFiles = new Set(before.map((b) => b.file));
    const added = listed.filter((b) => !beforeFiles.has(basename(b.path)));
    assert.ok(added.length <= 1, `${what}: ${added.length} new backups`);
    if (added.length === 0) {
      assert.ok(phase === "start" || phase === "staging" || phase === "publish", what);
      assert.deepEqual(
        fileNames(listed),
        [...beforeFiles].sort(),
        `${what}: backups changed, yet no new backup was published`,
      );
    } else {
      assert.ok(phase === "publish" || phase === "rotation" || phase === "done", what);
      const [made] = added;
      assert.equal(made.sha256, sha256, what);
      assert.equal(made.compression, point.compression, what);
      await assertReadableByStandardTools(made);
      const mustStay = newest([...before, ...known(added)], KEEP);
      const missing = mustStay.filter((file) => !listed.some((b) => basename(b.path) === file));
      assert.deepEqual(missing, [], `${what}: a backup rotation must keep is gone`);
    }
    await assertVerifies(dest, listed.length);

    // The next normal run: the content is unchanged, so it makes no backup but clears up
    // (uncompressed, as the compression of a run that makes nothing does not matter).
    const next = await tinybackup(
      ["--file", source, "--dest", dest, "--keep", String(KEEP), "--compress", "none"],
    );
    assert.equal(next.code, 0, `${what}: the next run failed: ${next.stderr}`);
    assert.equal(next.stdout, `${listed[0].path}\n`, what);
    current = await listBackups(dest);
    assert.deepEqual(fileNames(current), newest(known(listed), KEEP).sort(), what);
    await assertOnlyBackupsVisible(dest, current);
    await assertNoLeftovers(dest);
    return run.killed ? phase : "not killed";
  }

  const hit: Record<Phase, number> = { start: 0, staging: 0, publish: 0, rotation: 0 };
  const misses: string[] = [];
  for (const point of KILL_POINTS) {
    // A loaded machine can let a short window pass between two polls: try again, twice.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const phase = await killAndRecover(point);
      if (phase !== "done" && phase !== "not killed") hit[phase]++;
      if (phase === point.aim) break;
      misses.push(`${point.label} (${point.compression}) landed in ${phase}`);
    }
  }

  const total = Object.values(hit).reduce((a, b) => a + b, 0);
  const figures = Object.entries(hit).map(([phase, n]) => `${phase} ${n}`).join(", ");
  console.log(`faults/crash: ${total} kill points (${figures}), all recovered`);
  if (misses.length > 0) console.log(`faults/crash: missed, tried again: ${misses.join("; ")}`);
  assert.ok(total >= 20, `only ${total} kills landed before the run finished`);
  for (const phase of Object.keys(hit) as Phase[]) {
    assert.ok(hit[phase] >= 2, `only ${hit[phase]} kills landed in ${phase}`);
  }
});
