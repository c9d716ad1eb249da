/** The benchmark report in markdown (docs/benchmarks.md), and the short summary for the terminal. */
import { type Goal, verdict } from "./goals.ts";
import { CONFIG, LABELS, TINYBACKUP_TASK } from "./contenders.ts";
import { median, PEAK_MEMORY_METHOD, type Timing } from "./measure.ts";
import { humanBytes, type MemorySource, outputOf, type Results, type Table } from "./results.ts";

/** A markdown table; cells are written as given, but for '|' (a pipe in a label), escaped. */
function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function seconds(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : "n/a";
}

function times(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)} ×` : "n/a";
}

function timingTable(table: Table): string {
  const reference = table.timings.find((t) => t.label === table.reference);
  const sizes = table.inputBytes !== undefined;
  const header = ["contender", "median s", "min – max s"];
  if (reference) header.push(`× \`${reference.label}\``);
  if (sizes) header.push("output", "× size");
  const rows = table.timings.map((t: Timing) => {
    if (t.missing) {
      return [
        `\`${t.label}\``,
        `not run: ${t.missing}`,
        ...header.slice(2).map(() => ""),
      ];
    }
    const row = [
      `\`${t.label}\``,
      seconds(median(t.seconds)),
      `${seconds(Math.min(...t.seconds))} – ${seconds(Math.max(...t.seconds))}`,
    ];
    if (reference) row.push(times(median(t.seconds) / median(reference.seconds)));
    if (sizes) {
      const output = t.outputBytes ?? NaN;
      row.push(humanBytes(output), times(output / (reference?.outputBytes ?? NaN)));
    }
    return row;
  });
  return markdownTable(header, rows);
}

/** How each source of the memory rows reads in the table. */
const MEMORY_SOURCE_NAMES: Record<MemorySource, string> = {
  file: "text file",
  command: "command (`cat` of the text)",
  folder: "folder (the text as one file)",
  sqlite: "SQLite database",
  postgres: "PostgreSQL database",
  sftp: "text file to an sftp:// destination",
  s3: "text file to an s3:// destination",
  encrypted: "text file, encrypted to an age recipient",
};

function memoryTable(r: Results): string {
  if (r.memoryMissing) return `Not measured: ${r.memoryMissing}.`;
  return markdownTable(
    ["source", "compression", "peak resident memory"],
    r.memory.map((m) => [
      `${MEMORY_SOURCE_NAMES[m.source]}, ${humanBytes(m.sourceBytes)}`,
      m.compression,
      m.peakKiB === undefined ? "n/a" : `${(m.peakKiB / 1024).toFixed(1)} MiB`,
    ]),
  );
}

function goalsTable(goals: Goal[]): string {
  return markdownTable(
    ["measure", "goal", "measured", "result"],
    goals.map((g) => [g.measure, g.goal, g.measured, verdict(g)]),
  );
}

function machineTable(r: Results): string {
  const m = r.machine;
  return markdownTable(["", ""], [
    ["CPU", m.cpu],
    ["cores", String(m.cores)],
    ["memory", m.memory],
    ["OS", m.os],
    ["load average at start (1, 5, 15 min)", m.load],
    ["load average at end", m.loadAtEnd ?? "unknown"],
    ["file system of the work folder", m.workFileSystem],
    ...Object.entries(m.tools).map(([tool, version]) => [tool, `\`${version}\``]),
  ]);
}

function method(r: Results): string {
  const gzipText = r.tables.find((t) => t.id === "gzip-text");
  const textRatio = times((gzipText?.inputBytes ?? NaN) / outputOf(r, "gzip-text", LABELS.gzip));
  const count = r.backupCount.toLocaleString("en-US");
  return [
    `- Data, ${humanBytes(r.dataBytes)} each, made fresh in a temp folder and fsynced: **text**, ` +
    "lines of made-up words and numbers from a seeded xorshift32 (`gzip -6` compresses it " +
    `${textRatio}), and **random**, from \`crypto.getRandomValues\`, which does not compress.`,
    `- Contenders of a table run round-robin: each repetition runs every contender once, ` +
    `starting with a different one each time, so drift in the machine touches all alike. ` +
    `${r.repeat} repetition(s), ${r.startupRepeat} for start-up, whose runs are short enough ` +
    "for noise to matter; list, prune and start-up after one untimed round. Medians, with the " +
    "fastest and slowest run.",
    "- Time is wall clock from spawn to exit, process start-up included, as a user waits for it.",
    "- tinybackup runs from source as `deno task tinybackup` does, with its flags from deno.json: " +
    `\`${TINYBACKUP_TASK.replace(/ main\.ts$/, " --config deno.json main.ts")} --file F --dest D ` +
    "--compress X --force --keep 0`, into an empty destination each time.",
    "- Each shell tool is followed by `sync` of its output, because tinybackup fsyncs every " +
    'backup: `sh -c \'gzip -6 -c "$1" > "$2" && sync "$2"\' sh SOURCE OUT`. `cp` is ' +
    '`cp "$1" "$2" && sync "$2"`.',
    "- Outputs are removed after each run, so disk use stays bounded; the source is in the page " +
    "cache for every contender (it was just written, and all of them read it).",
    `- Peak memory: ${PEAK_MEMORY_METHOD}; one backup each: of a text file with each ` +
    "compression, and with gzip of the same text as a command's output (`--command 'cat F'`) " +
    "and in a folder, of a SQLite database of that size (`bench/sources.ts`), and of a small " +
    "and the benched PostgreSQL database (for a command or a database, the largest of " +
    "tinybackup and the dump program it runs).",
    "- SFTP: an sshd started for the run on 127.0.0.1 (`tests/_sshd.ts`). " +
    "`tinybackup --file TEXT --dest sftp://... --compress gzip` against `scp` of the same text " +
    "gzip'd beforehand (`gzip -6`), then `sync`; the goal adds tinybackup's own time for a local " +
    "gzip backup of the text (the gzip table) to scp's.",
    "- S3: moto_server started for the run on 127.0.0.1 (`tests/_s3.ts`; an emulator that keeps " +
    "objects in memory, so the server's side costs less than a real store's disk). " +
    "`tinybackup --file TEXT --dest s3://... --compress gzip` against `rclone copyto` of the same " +
    "text gzip'd beforehand; the goal adds tinybackup's local gzip time to rclone's. S3 list: " +
    `${count} backups of one series uploaded directly (\`bench/s3.ts\`), then ` +
    "`list --dest s3://... --json` with its output discarded.",
    "- PostgreSQL: a server started for the run (`tests/_postgres.ts`, fsync off), one table " +
    "of orders (numbers, names, hex notes, amounts, times) filled to the size given. " +
    "`tinybackup --postgres bench --compress gzip` against `pg_dump -Fc -d bench -f OUT`, " +
    "followed by `sync OUT`.",
    "- Folders: the same text, as many files of 1–8 KiB in folders of 100 (`bench/folders.ts`), " +
    "and as one large file in a folder. `tinybackup --folder D --compress gzip` against " +
    '`tar -C "$(dirname D)" -cf - "$(basename D)" | gzip -6 > OUT` and `tar -I pigz -cf OUT ...`, ' +
    "each followed by `sync OUT`.",
    `- list and prune: a destination holding ${count} gzip backups of one series, written ` +
    "directly with the project's naming and metadata code (`bench/many_backups.ts`), not by " +
    `running tinybackup ${count} times. \`list --dest D --json\` with its output discarded; ` +
    `\`prune --dest D --name N --keep ${r.backupCount - 10}\` removes the 10 oldest, which are ` +
    "written back, untimed, before the next run.",
    "- Start-up: `tinybackup --version` against an empty script run by the same `deno` with the " +
    "same `--config`, so the difference is tinybackup's own loading.",
  ].join("\n");
}

/**
 * The whole report. `limits` (bench/limits.md) explains, from profiles
 * made by hand, what holds back the goals a full run misses.
 */
export function renderReport(r: Results, goals: Goal[], limits: string): string {
  const parts = [
    "# Benchmarks",
    `Made by \`${r.command}\` (\`bench/bench.ts\`) on ${r.date}, in ${
      (r.elapsed / 60).toFixed(1)
    } min. To update it, run that again rather than editing this file.`,
  ];
  if (r.smoke) {
    parts.push(
      "> Smoke run: tiny sizes and a single repetition, only to prove the bench works. " +
        "These numbers mean nothing.",
    );
  }
  parts.push("## Goals", goalsTable(goals));
  if (!r.smoke && goals.some((goal) => goal.met === false)) {
    parts.push("## What limits the goals missed", limits.trim());
  }
  parts.push("## How it was measured", method(r));
  parts.push("## Machine", machineTable(r));
  let group = "";
  for (const table of r.tables) {
    if (table.group !== group) {
      // Peak memory goes with the backups, before list and prune.
      if (group === "none") parts.push("## Peak memory", memoryTable(r));
      group = table.group;
      parts.push(`## ${group}`);
    }
    parts.push(`### ${table.title}`, timingTable(table));
  }
  return parts.join("\n\n") + "\n";
}

/** A few lines for the terminal: each goal and how it went. */
export function summary(goals: Goal[]): string {
  const plain = (text: string) => text.replaceAll("**", "").replaceAll("`", "");
  const width = Math.max(...goals.map((g) => plain(g.measure).length));
  return goals.map((g) =>
    `${plain(g.measure).padEnd(width)}  ${g.measured}  (${plain(g.goal)}): ${plain(verdict(g))}`
  ).join("\n");
}

/**
 * `markdown` as `deno fmt` lays it out with the project's settings, so the
 * written report passes CI's `deno fmt --check` as it is.
 */
export async function formatMarkdown(markdown: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--config", CONFIG, "--ext", "md", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(markdown));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  if (code !== 0) throw new Error(`deno fmt failed: ${decoder.decode(stderr)}`);
  return decoder.decode(stdout);
}
