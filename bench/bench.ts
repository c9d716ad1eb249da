/**
 * `deno task bench`: tinybackup against the shell tools it replaces, side by
 * side in one run, on data the bench makes itself. Writes docs/benchmarks.md
 * (see bench/report.ts) and prints whether each goal of issue 4 is met.
 *
 *   deno task bench [--size MiB] [--repeat N] [--out PATH]
 *   deno task bench --smoke [--out PATH]   tiny sizes, to prove the bench works
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Compression } from "../lib/backup/naming.ts";
import {
  backupContender,
  CONFIG,
  LABELS,
  shellContender,
  tinybackupCommand,
} from "./contenders.ts";
import { makeRandomFile, makeTextFile } from "./data.ts";
import {
  FOLDER_KINDS,
  folderContenders,
  makeLargeFileFolder,
  makeSmallFilesFolder,
} from "./folders.ts";
import { DATA_KINDS, evaluateGoals } from "./goals.ts";
import { describeMachine, loadAverage } from "./machine.ts";
import { seriesOf, writeBackups } from "./many_backups.ts";
import { type Contender, hasProgram, peakMemoryKiB, roundRobin, timeOnce } from "./measure.ts";
import { formatMarkdown, renderReport, summary } from "./report.ts";
import {
  humanBytes,
  type MemoryResult,
  type MemorySource,
  type Results,
  type Table,
} from "./results.ts";
import {
  S3_LABELS,
  s3Contenders,
  s3ListContender,
  s3Missing,
  s3Url,
  startBenchS3,
  uploadBackups,
} from "./s3.ts";
import {
  ENCRYPTION_LABELS,
  encryptionContenders,
  encryptionMissing,
  makeBenchKey,
} from "./encryption.ts";
import { SFTP_LABELS, sftpContenders, sftpMissing, sftpUrl, startBenchSshd } from "./sftp.ts";
import type { SshServer } from "../tests/_sshd.ts";
import type { S3Server } from "../tests/_s3.ts";
import {
  BENCH_DATABASE,
  fillDatabase,
  makeSqliteDatabase,
  POSTGRES_LABELS,
  postgresContenders,
  postgresMissing,
  startBenchPostgres,
} from "./sources.ts";

const MiB = 1024 * 1024;

/** A backup made every time, all of them kept: the destination comes last. */
const BENCH_BACKUP_OPTIONS = ["--force", "--keep", "0", "--dest"];

interface Options {
  smoke: boolean;
  /** Size of each data file, in bytes. */
  dataBytes: number;
  repeat: number;
  /** Runs of start-up, a tenth of a second each: short enough for noise to matter. */
  startupRepeat: number;
  /** Sources whose backup's peak memory is measured. */
  memoryBytes: number[];
  backupCount: number;
  /** Files in the folder of small files. */
  smallFiles: number;
  /** Size of the one file of the other folder. */
  largeFileBytes: number;
  /** Size of the PostgreSQL database, as pg_database_size counts it. */
  databaseBytes: number;
  out: string;
}

const USAGE = "usage: deno task bench [--size MiB] [--repeat N] [--out PATH] [--smoke]";

async function parseOptions(argv: string[]): Promise<Options> {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: "string" },
      repeat: { type: "string" },
      out: { type: "string" },
      smoke: { type: "boolean", default: false },
    },
  });
  const smoke = values.smoke!;
  const size = Number(values.size ?? (smoke ? 1 : 256));
  const repeat = Number(values.repeat ?? (smoke ? 1 : 5));
  if (!(size > 0)) throw new Error("--size must be a positive number of MiB");
  if (!Number.isInteger(repeat) || repeat < 1) {
    throw new Error("--repeat must be a whole number, at least 1");
  }
  return {
    smoke,
    dataBytes: Math.round(size * MiB),
    repeat,
    startupRepeat: smoke ? 1 : repeat * 4,
    memoryBytes: smoke ? [1 * MiB, 4 * MiB] : [64 * MiB, 1024 * MiB],
    backupCount: smoke ? 200 : 10_000,
    smallFiles: smoke ? 200 : 10_000,
    largeFileBytes: Math.round(2 * size * MiB),
    databaseBytes: smoke ? 16 * MiB : 512 * MiB,
    // A smoke run must never overwrite the real report.
    out: values.out ??
      (smoke
        ? await Deno.makeTempFile({ prefix: "tinybackup-bench-", suffix: ".md" })
        : fileURLToPath(new URL("../docs/benchmarks.md", import.meta.url))),
  };
}

function progress(message: string): void {
  console.error(`bench: ${message}`);
}

/** Each codec's contenders on `source`; the second is the reference. */
async function codecContenders(
  compression: Compression,
  source: string,
  work: string,
): Promise<Contender[]> {
  const folder = (n: number) => join(work, `out-${n}`);
  const tinybackup = backupContender(source, compression, folder(0));
  switch (compression) {
    case "gzip":
      return [
        tinybackup,
        await shellContender(LABELS.gzip, 'gzip -6 -c "$1" > "$2"', source, folder(1)),
        await shellContender(LABELS.pigz, 'pigz -6 -c "$1" > "$2"', source, folder(2)),
      ];
    case "zstd":
      // -q: no progress line; the tools run without a terminal anyway.
      return [
        tinybackup,
        await shellContender(LABELS.zstd, 'zstd -3 -q -c "$1" > "$2"', source, folder(1)),
        await shellContender(
          LABELS.zstdThreads,
          'zstd -3 -T0 -q -c "$1" > "$2"',
          source,
          folder(2),
        ),
      ];
    case "none":
      return [tinybackup, await shellContender(LABELS.cp, 'cp "$1" "$2"', source, folder(1))];
  }
}

async function codecTables(options: Options, sources: Record<string, string>, work: string) {
  const tables: Table[] = [];
  for (const compression of ["gzip", "zstd", "none"] as const) {
    for (const data of DATA_KINDS) {
      progress(`${compression}, ${data} file, ${options.repeat} round(s)`);
      const contenders = await codecContenders(compression, sources[data], work);
      tables.push({
        id: `${compression}-${data}`,
        group: compression,
        title: `${data} file, ${humanBytes(options.dataBytes)}`,
        reference: contenders[1].label,
        inputBytes: options.dataBytes,
        timings: await roundRobin(contenders, options.repeat),
      });
    }
  }
  return tables;
}

/** Each data file backed up with zstd and a recipient, against `zstd -3 | age -r`. */
async function encryptionTables(
  options: Options,
  sources: Record<string, string>,
  work: string,
): Promise<{ tables: Table[]; recipient?: string }> {
  const missing = await encryptionMissing();
  const recipient = missing ? undefined : await makeBenchKey(work);
  const tables: Table[] = [];
  for (const data of DATA_KINDS) {
    progress(`zstd and age, ${data} file, ${missing ? 1 : options.repeat} round(s)`);
    const contenders = encryptionContenders(sources[data], recipient ?? "", work, missing);
    tables.push({
      id: `encrypted-${data}`,
      group: "zstd and age",
      title: `${data} file, ${humanBytes(options.dataBytes)}`,
      reference: ENCRYPTION_LABELS.pipe,
      inputBytes: options.dataBytes,
      timings: await roundRobin(contenders, missing ? 1 : options.repeat),
    });
  }
  return { tables, recipient };
}

/** Each folder's backup against tar with gzip and with pigz; the folders are removed after. */
async function folderTables(options: Options, work: string): Promise<Table[]> {
  const tables: Table[] = [];
  for (const kind of FOLDER_KINDS) {
    const source = join(work, kind);
    const small = kind === "small-files";
    progress(`folder of ${kind}, ${options.repeat} round(s)`);
    if (small) await makeSmallFilesFolder(source, options.smallFiles);
    else await makeLargeFileFolder(source, options.largeFileBytes);
    const contenders = await folderContenders(source, work);
    tables.push({
      id: `folder-${kind}`,
      group: "folder, gzip",
      title: small
        ? `${options.smallFiles.toLocaleString("en-US")} files of 1–8 KiB`
        : `one text file of ${humanBytes(options.largeFileBytes)}`,
      reference: contenders[1].label,
      inputBytes: small ? undefined : options.largeFileBytes,
      timings: await roundRobin(contenders, options.repeat),
    });
    await Deno.remove(source, { recursive: true });
  }
  return tables;
}

/**
 * Peak memory of one backup per source size: of a text file with each
 * compression, and with gzip of the same text as a command's output, in a
 * folder, and of a SQLite database of that size.
 */
async function peakMemory(
  options: Options,
  work: string,
  sftp: SshServer | undefined,
  s3: S3Server | undefined,
  recipient: string | undefined,
): Promise<MemoryResult[]> {
  const results: MemoryResult[] = [];
  const source = join(work, "memory.txt");
  const folder = join(work, "memory-folder");
  const database = join(work, "memory.db");
  const out = join(work, "out-memory");
  const measure = async (
    source: MemorySource,
    bytes: number,
    args: string[],
    compression: Compression = "gzip",
    dest = out,
  ) => {
    await Deno.mkdir(out, { recursive: true });
    const peakKiB = await peakMemoryKiB(
      tinybackupCommand([...args, "--compress", compression, ...BENCH_BACKUP_OPTIONS, dest]),
      join(work, "time.txt"),
    );
    await Deno.remove(out, { recursive: true });
    results.push({ source, sourceBytes: bytes, compression, peakKiB });
  };
  for (const bytes of options.memoryBytes) {
    progress(`peak memory, ${bytes / MiB} MiB sources`);
    await makeTextFile(source, bytes);
    for (const compression of ["gzip", "zstd", "none"] as const) {
      await measure("file", bytes, ["--file", source], compression);
    }
    await measure("command", bytes, ["--command", `cat '${source}'`, "--name", "memory.txt"]);
    if (recipient) {
      await measure("encrypted", bytes, ["--file", source, "--recipient", recipient], "zstd");
    }
    if (sftp) {
      await measure(
        "sftp",
        bytes,
        ["--file", source, "--ssh-config", sftp.config],
        "gzip",
        sftpUrl(out),
      );
    }
    if (s3) {
      await measure("s3", bytes, ["--file", source], "gzip", s3Url(s3, "memory"));
      await s3.rclone(["purge", `s3:${s3.bucket}/memory`]);
    }
    await Deno.mkdir(folder);
    await Deno.link(source, join(folder, "memory.txt"));
    await measure("folder", bytes, ["--folder", folder]);
    await Deno.remove(folder, { recursive: true });
    if (await hasProgram("sqlite3")) {
      await makeSqliteDatabase(database, bytes);
      const size = (await Deno.stat(database)).size;
      await measure("sqlite", size, ["--sqlite", database]);
      await Deno.remove(database);
    }
  }
  await Deno.remove(source);
  return results;
}

/** The text file backed up to an SFTP destination, against scp of it gzip'd. */
async function sftpTable(
  options: Options,
  text: string,
  work: string,
  sshd: SshServer | undefined,
  missing: string | undefined,
): Promise<Table> {
  const compressed = join(work, "text.txt.gz");
  progress(`SFTP, ${options.repeat} round(s)`);
  let timings;
  if (sshd) {
    // The reference file: the same text, compressed as tinybackup compresses it.
    await timeOnce(["sh", "-c", 'gzip -6 -c "$1" > "$2"', "sh", text, compressed]);
    timings = await roundRobin(sftpContenders(sshd.config, text, compressed, work), options.repeat);
    await Deno.remove(compressed);
  } else {
    const contenders = sftpContenders("", text, compressed, work);
    timings = await roundRobin(contenders.map((c) => ({ ...c, missing })), 1);
  }
  return {
    id: "sftp",
    group: "SFTP",
    title: `text file, ${humanBytes(options.dataBytes)}, to sshd on 127.0.0.1`,
    reference: SFTP_LABELS.scp,
    inputBytes: options.dataBytes,
    timings,
  };
}

/** The text file backed up to an S3 destination, against rclone of it gzip'd. */
async function s3Table(
  options: Options,
  text: string,
  work: string,
  s3: S3Server | undefined,
  missing: string | undefined,
): Promise<Table> {
  const compressed = join(work, "text.txt.gz");
  progress(`S3, ${options.repeat} round(s)`);
  let timings;
  if (s3) {
    await timeOnce(["sh", "-c", 'gzip -6 -c "$1" > "$2"', "sh", text, compressed]);
    timings = await roundRobin(s3Contenders(s3, text, compressed), options.repeat);
    await Deno.remove(compressed);
  } else {
    const contenders = s3Contenders(undefined, text, compressed);
    timings = await roundRobin(contenders.map((c) => ({ ...c, missing })), 1);
  }
  return {
    id: "s3",
    group: "S3",
    title: `text file, ${humanBytes(options.dataBytes)}, to moto_server on 127.0.0.1`,
    reference: S3_LABELS.rclone,
    inputBytes: options.dataBytes,
    timings,
  };
}

/** list of a prefix holding options.backupCount backups of one series. */
async function s3ListTable(
  options: Options,
  work: string,
  s3: S3Server | undefined,
  missing: string | undefined,
): Promise<Table> {
  const count = options.backupCount;
  progress(`S3 list of ${count} backups, ${options.repeat} round(s)`);
  let timings;
  if (s3) {
    await uploadBackups(s3, "many", seriesOf("notes.txt", join(work, "notes.txt"), count));
    timings = await roundRobin([s3ListContender(s3)], options.repeat, true);
    await s3.rclone(["purge", `s3:${s3.bucket}/many`]);
  } else {
    timings = await roundRobin([{ ...s3ListContender(undefined), missing }], 1);
  }
  return {
    id: "s3-list",
    group: "S3",
    title: `list of ${count.toLocaleString("en-US")} backups of one series on moto_server`,
    timings,
  };
}

/**
 * A database of options.databaseBytes backed up by tinybackup and by
 * pg_dump -Fc, and the peak memory of backing up a small one and that one.
 */
async function postgresRows(
  options: Options,
  work: string,
  measureMemory: boolean,
): Promise<{ table: Table; memory: MemoryResult[] }> {
  const table = (timings: Table["timings"], bytes = options.databaseBytes): Table => ({
    id: "postgres",
    group: "PostgreSQL",
    title: `a database of ${humanBytes(bytes)} (pg_database_size)`,
    reference: POSTGRES_LABELS.pgDump,
    timings,
  });
  const missing = await postgresMissing();
  if (missing) {
    const contenders = await postgresContenders(BENCH_DATABASE, work);
    return {
      table: table(await roundRobin(contenders.map((c) => ({ ...c, missing })), 1)),
      memory: [],
    };
  }
  await using pg = await startBenchPostgres();
  const memory: MemoryResult[] = [];
  const sizes = measureMemory ? [options.memoryBytes[0], options.databaseBytes] : [];
  for (const bytes of sizes.slice(0, -1)) {
    progress(`peak memory, PostgreSQL database of ${humanBytes(bytes)}`);
    const size = await fillDatabase(pg, BENCH_DATABASE, bytes);
    memory.push(await postgresMemory(work, size));
  }
  progress(`PostgreSQL database of ${humanBytes(options.databaseBytes)}: making it`);
  const size = await fillDatabase(pg, BENCH_DATABASE, options.databaseBytes);
  if (measureMemory) memory.push(await postgresMemory(work, size));
  progress(`PostgreSQL, ${options.repeat} round(s)`);
  const timings = await roundRobin(await postgresContenders(BENCH_DATABASE, work), options.repeat);
  return { table: table(timings, size), memory };
}

async function postgresMemory(work: string, bytes: number): Promise<MemoryResult> {
  const out = join(work, "out-memory");
  await Deno.mkdir(out, { recursive: true });
  const peakKiB = await peakMemoryKiB(
    tinybackupCommand(["--postgres", BENCH_DATABASE, ...BENCH_BACKUP_OPTIONS, out]),
    join(work, "time.txt"),
  );
  await Deno.remove(out, { recursive: true });
  return { source: "postgres", sourceBytes: bytes, compression: "gzip", peakKiB };
}

/** list and prune in a destination holding options.backupCount backups of one series. */
async function listPruneTable(options: Options, work: string): Promise<Table> {
  const count = options.backupCount;
  const keep = count - 10;
  progress(`list and prune of ${count} backups, ${options.repeat} round(s)`);
  const dest = join(work, "many");
  const name = "notes.txt";
  const backups = seriesOf(name, join(work, name), count);
  await writeBackups(dest, backups);
  const list: Contender = {
    label: LABELS.list,
    command: tinybackupCommand(["list", "--dest", dest, "--json"]),
  };
  const prune: Contender = {
    label: LABELS.prune,
    command: tinybackupCommand(["prune", "--dest", dest, "--name", name, "--keep", String(keep)]),
    async after() {
      // Check prune did the work being timed, then put the destination back as it was.
      let left = 0;
      for await (const entry of Deno.readDir(dest)) if (entry.isFile) left++;
      if (left !== keep) throw new Error(`prune left ${left} backups, not ${keep}`);
      await writeBackups(dest, backups.slice(0, count - keep));
      return undefined;
    },
  };
  const timings = await roundRobin([list, prune], options.repeat, true);
  await Deno.remove(dest, { recursive: true });
  return {
    id: "list-prune",
    group: "list and prune",
    title: `${count.toLocaleString("en-US")} backups of one series`,
    timings,
  };
}

async function startupTable(options: Options, work: string): Promise<Table> {
  progress(`start-up, ${options.startupRepeat} round(s)`);
  const empty = join(work, "empty.ts");
  await Deno.writeTextFile(empty, "");
  const contenders: Contender[] = [
    { label: LABELS.version, command: tinybackupCommand(["--version"]) },
    // The same deno and config as tinybackup: what differs is tinybackup's own loading.
    { label: LABELS.empty, command: [Deno.execPath(), "run", "-q", "--config", CONFIG, empty] },
  ];
  return {
    id: "startup",
    group: "Start-up",
    title: "`tinybackup --version` against an empty Deno script",
    reference: LABELS.empty,
    timings: await roundRobin(contenders, options.startupRepeat, true),
  };
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = await parseOptions(Deno.args);
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : error}\n${USAGE}`);
    return 2;
  }
  const started = performance.now();
  const date = new Date().toISOString();
  const work = await Deno.makeTempDir({ prefix: "tinybackup-bench-" });
  try {
    const machine = await describeMachine(work);
    progress(`making two ${humanBytes(options.dataBytes)} data files in ${work}`);
    const sources = { text: join(work, "text.txt"), random: join(work, "random.bin") };
    await makeTextFile(sources.text, options.dataBytes);
    await makeRandomFile(sources.random, options.dataBytes);
    // Untimed: fills Deno's module cache, so the first timed run does not pay for it.
    await timeOnce(tinybackupCommand(["--version"]));

    const tables = await codecTables(options, sources, work);
    tables.push(...await folderTables(options, work));
    const timeMissing = (await hasProgram("/usr/bin/time"))
      ? undefined
      : "/usr/bin/time is not installed";
    const sftpProblem = await sftpMissing();
    await using sshd = sftpProblem ? undefined : await startBenchSshd();
    tables.push(await sftpTable(options, sources.text, work, sshd, sftpProblem));
    const s3Problem = await s3Missing();
    await using s3 = s3Problem ? undefined : await startBenchS3();
    tables.push(await s3Table(options, sources.text, work, s3, s3Problem));
    tables.push(await s3ListTable(options, work, s3, s3Problem));
    const encryption = await encryptionTables(options, sources, work);
    tables.push(...encryption.tables);
    const memory = timeMissing
      ? []
      : await peakMemory(options, work, sshd, s3, encryption.recipient);
    const postgres = await postgresRows(options, work, !timeMissing);
    tables.push(postgres.table);
    memory.push(...postgres.memory);
    tables.push(await listPruneTable(options, work), await startupTable(options, work));

    machine.loadAtEnd = loadAverage();
    const results: Results = {
      command: ["deno task bench", ...Deno.args].join(" "),
      date,
      smoke: options.smoke,
      dataBytes: options.dataBytes,
      repeat: options.repeat,
      startupRepeat: options.startupRepeat,
      backupCount: options.backupCount,
      elapsed: (performance.now() - started) / 1000,
      machine,
      tables,
      memory,
      memoryMissing: timeMissing,
    };
    const goals = evaluateGoals(results);
    await Deno.mkdir(dirname(options.out), { recursive: true });
    const limits = await Deno.readTextFile(new URL("./limits.md", import.meta.url));
    await Deno.writeTextFile(
      options.out,
      await formatMarkdown(renderReport(results, goals, limits)),
    );
    console.log(summary(goals));
    console.log(`wrote ${options.out}`);
    return 0;
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

Deno.exit(await main());
