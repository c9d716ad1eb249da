/** The goals of issue 4, checked against one run's medians. */
import type { Compression } from "../lib/backup/naming.ts";
import { LABELS } from "./contenders.ts";
import { FOLDER_KINDS, FOLDER_LABELS } from "./folders.ts";
import { ENCRYPTION_LABELS } from "./encryption.ts";
import { S3_LABELS } from "./s3.ts";
import { SFTP_LABELS } from "./sftp.ts";
import { POSTGRES_LABELS } from "./sources.ts";
import {
  humanBytes,
  medianOf,
  MEMORY_SOURCES,
  type MemoryResult,
  outputOf,
  type Results,
} from "./results.ts";

export interface Goal {
  measure: string;
  goal: string;
  /** What was measured, e.g. `0.85 × time, 1.01 × size`. */
  measured: string;
  /** Undefined when it could not be measured here (a tool is missing). */
  met?: boolean;
}

/** The data files every codec is measured on. */
export const DATA_KINDS = ["text", "random"] as const;

const PEAK_LIMIT_MIB = 150;
const GROWTH_LIMIT_MIB = 20;
const LIST_PRUNE_LIMIT_SECONDS = 2;
const S3_LIST_LIMIT_SECONDS = 5;

function times(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)} ×` : "n/a";
}

/** Whether every value was measured; a goal with an unmeasured part is neither met nor missed. */
function known(...values: number[]): boolean {
  return values.every(Number.isFinite);
}

/** tinybackup's median time over `reference`'s, in table `id`. */
function timeRatio(r: Results, id: string, compression: Compression, reference: string): number {
  return medianOf(r, id, LABELS.backup(compression)) / medianOf(r, id, reference);
}

function ratioGoal(measure: string, goal: string, ratio: number, limit: number): Goal {
  return { measure, goal, measured: times(ratio), met: known(ratio) ? ratio <= limit : undefined };
}

export function evaluateGoals(r: Results): Goal[] {
  const goals: Goal[] = [];
  for (const data of DATA_KINDS) {
    const id = `gzip-${data}`;
    const time = timeRatio(r, id, "gzip", LABELS.gzip);
    const size = outputOf(r, id, LABELS.backup("gzip")) / outputOf(r, id, LABELS.gzip);
    goals.push({
      measure: `gzip time, ${data}`,
      goal: "≤ 0.9 × `gzip -6`, output within 3% of its size",
      measured: `${times(time)} time, ${times(size)} size`,
      met: known(time, size) ? time <= 0.9 && size <= 1.03 : undefined,
    });
    goals.push(
      ratioGoal(
        `gzip stretch, ${data}`,
        "≤ 1.2 × `pigz -6`",
        timeRatio(r, id, "gzip", LABELS.pigz),
        1.2,
      ),
    );
  }
  for (const data of DATA_KINDS) {
    const id = `zstd-${data}`;
    goals.push(
      ratioGoal(
        `zstd time, ${data}`,
        "≤ 1.2 × `zstd -3`",
        timeRatio(r, id, "zstd", LABELS.zstd),
        1.2,
      ),
      ratioGoal(
        `zstd stretch, ${data}`,
        "≤ 1.2 × `zstd -3 -T0`",
        timeRatio(r, id, "zstd", LABELS.zstdThreads),
        1.2,
      ),
    );
  }
  for (const data of DATA_KINDS) {
    const ratio = timeRatio(r, `none-${data}`, "none", LABELS.cp);
    goals.push(
      ratioGoal(`none time, ${data}`, "≤ 2.0 × `cp` + `sync`", ratio, 2.0),
      ratioGoal(`none stretch, ${data}`, "≤ 1.5 × `cp` + `sync`", ratio, 1.5),
    );
  }
  for (const kind of FOLDER_KINDS) {
    const id = `folder-${kind}`;
    const ratio = (reference: string) =>
      medianOf(r, id, FOLDER_LABELS.backup) / medianOf(r, id, reference);
    goals.push(
      ratioGoal(
        `folder time, ${kind}`,
        "≤ 0.9 × `tar | gzip -6`",
        ratio(FOLDER_LABELS.tarGzip),
        0.9,
      ),
      ratioGoal(
        `folder stretch, ${kind}`,
        "≤ 1.2 × `tar -I pigz`",
        ratio(FOLDER_LABELS.tarPigz),
        1.2,
      ),
    );
  }
  goals.push(
    ratioGoal(
      "PostgreSQL time",
      "≤ 1.1 × `pg_dump -Fc` + `sync`",
      medianOf(r, "postgres", POSTGRES_LABELS.backup) /
        medianOf(r, "postgres", POSTGRES_LABELS.pgDump),
      1.1,
    ),
  );
  for (const data of DATA_KINDS) {
    goals.push(
      ratioGoal(
        `encryption time, ${data}`,
        "≤ 1.3 × `zstd -3 | age -r`",
        medianOf(r, `encrypted-${data}`, ENCRYPTION_LABELS.backup) /
          medianOf(r, `encrypted-${data}`, ENCRYPTION_LABELS.pipe),
        1.3,
      ),
    );
  }
  goals.push(
    ratioGoal(
      "SFTP time, text",
      "≤ 1.1 × (`scp` of the gzip'd file + tinybackup's local gzip)",
      medianOf(r, "sftp", SFTP_LABELS.backup) /
        (medianOf(r, "sftp", SFTP_LABELS.scp) + medianOf(r, "gzip-text", LABELS.backup("gzip"))),
      1.1,
    ),
  );
  goals.push(
    ratioGoal(
      "S3 time, text",
      "≤ 1.1 × (`rclone copyto` of the gzip'd file + tinybackup's local gzip)",
      medianOf(r, "s3", S3_LABELS.backup) /
        (medianOf(r, "s3", S3_LABELS.rclone) + medianOf(r, "gzip-text", LABELS.backup("gzip"))),
      1.1,
    ),
  );
  const s3List = medianOf(r, "s3-list", S3_LABELS.list);
  goals.push({
    measure: `list of ${r.backupCount.toLocaleString("en-US")} backups on S3`,
    goal: `≤ ${S3_LIST_LIMIT_SECONDS} s`,
    measured: known(s3List) ? `${s3List.toFixed(3)} s` : "n/a",
    met: known(s3List) ? s3List <= S3_LIST_LIMIT_SECONDS : undefined,
  });
  for (const source of MEMORY_SOURCES) {
    goals.push(...memoryGoals(r.memory.filter((m) => m.source === source), source));
  }
  for (const label of [LABELS.list, LABELS.prune]) {
    const seconds = medianOf(r, "list-prune", label);
    goals.push({
      measure: `${label.split(" ")[1]} of ${r.backupCount.toLocaleString("en-US")} backups`,
      goal: `≤ ${LIST_PRUNE_LIMIT_SECONDS} s`,
      measured: known(seconds) ? `${seconds.toFixed(3)} s` : "n/a",
      met: known(seconds) ? seconds <= LIST_PRUNE_LIMIT_SECONDS : undefined,
    });
  }
  const startup = medianOf(r, "startup", LABELS.version) / medianOf(r, "startup", LABELS.empty);
  goals.push(ratioGoal("`--version`", "≤ 1.5 × an empty Deno script", startup, 1.5));
  return goals;
}

/** A source's peak memory, and how it grows from the smallest source to the largest. */
function memoryGoals(results: MemoryResult[], source: string): Goal[] {
  const measured = results.filter((m) => m.peakKiB !== undefined);
  const of = source === "file" ? "" : `, ${source}`;
  if (measured.length === 0) {
    return [{ measure: `peak memory${of}`, goal: `≤ ${PEAK_LIMIT_MIB} MiB`, measured: "n/a" }];
  }
  const mib = (kib: number) => kib / 1024;
  const highest = measured.reduce((a, b) => (b.peakKiB! > a.peakKiB! ? b : a));
  const small = Math.min(...measured.map((m) => m.sourceBytes));
  const large = Math.max(...measured.map((m) => m.sourceBytes));
  // The growth that matters is the worst compression's.
  let growth = -Infinity;
  let worst = "";
  for (const m of measured.filter((m) => m.sourceBytes === large)) {
    const base = measured.find((s) => s.sourceBytes === small && s.compression === m.compression);
    if (base && mib(m.peakKiB! - base.peakKiB!) > growth) {
      growth = mib(m.peakKiB! - base.peakKiB!);
      worst = m.compression;
    }
  }
  return [
    {
      measure: `peak memory${of}`,
      goal: `≤ ${PEAK_LIMIT_MIB} MiB`,
      measured: `${mib(highest.peakKiB!).toFixed(1)} MiB (${highest.compression}, ${
        humanBytes(highest.sourceBytes)
      } source)`,
      met: mib(highest.peakKiB!) <= PEAK_LIMIT_MIB,
    },
    {
      measure: `peak memory growth${of}`,
      goal: `${humanBytes(large)} source within ${GROWTH_LIMIT_MIB} MiB of the ${
        humanBytes(small)
      } one`,
      measured: known(growth)
        ? `${growth >= 0 ? "+" : ""}${growth.toFixed(1)} MiB (${worst})`
        : "n/a",
      met: known(growth) ? growth <= GROWTH_LIMIT_MIB : undefined,
    },
  ];
}

/** How a goal's outcome reads in the report. */
export function verdict(goal: Goal): string {
  return goal.met === undefined ? "not measured" : goal.met ? "met" : "**missed**";
}
