/**
 * The contenders' command lines: tinybackup run from source as users run it,
 * and the shell one-liners it replaces, each made as durable as a backup.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Compression } from "../lib/backup/naming.ts";
import { type Contender, hasProgram } from "./measure.ts";

/** The main.ts and deno.json of the tinybackup this bench belongs to. */
export const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
export const CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));

/** How the contenders are labelled in tables, and looked up by the goals. */
export const LABELS = {
  gzip: "gzip -6 -c",
  pigz: "pigz -6 -c",
  zstd: "zstd -3 -c",
  zstdThreads: "zstd -3 -T0 -c",
  cp: "cp",
  list: "tinybackup list --json",
  prune: "tinybackup prune",
  version: "tinybackup --version",
  empty: "deno run -q --config deno.json empty.ts",
  backup: (compression: Compression) => `tinybackup --compress ${compression}`,
} as const;

/**
 * The `tinybackup` task of deno.json, e.g. `deno run -q -P=tinybackup main.ts`.
 * The bench runs tinybackup with exactly its flags, so it measures what
 * users run even when those flags change.
 */
export const TINYBACKUP_TASK: string = JSON.parse(Deno.readTextFileSync(CONFIG)).tasks.tinybackup;

/**
 * `tinybackup ARGS...` as the task runs it, with the deno running the bench,
 * and the config and main.ts named in full, so it runs from any folder.
 */
export function tinybackupCommand(args: string[]): string[] {
  const [deno, ...flags] = TINYBACKUP_TASK.split(" ");
  if (deno !== "deno" || flags[0] !== "run" || flags.pop() !== "main.ts") {
    throw new Error(
      `cannot run the tinybackup task '${TINYBACKUP_TASK}': not 'deno run ... main.ts'`,
    );
  }
  return [Deno.execPath(), ...flags, "--config", CONFIG, MAIN, ...args];
}

/**
 * A fresh, empty output folder for each run, removed after it: disk use stays
 * bounded, and no run finds another's output (or pays to replace it).
 * `after` returns the size of the visible files the run wrote.
 */
export function freshFolder(folder: string): Pick<Contender, "before" | "after"> {
  return {
    before: () => Deno.mkdir(folder, { recursive: true }),
    async after() {
      let bytes = 0;
      for await (const entry of Deno.readDir(folder)) {
        if (entry.isFile && !entry.name.startsWith(".")) {
          bytes += (await Deno.stat(join(folder, entry.name))).size;
        }
      }
      await Deno.remove(folder, { recursive: true });
      return bytes;
    },
  };
}

/** A tinybackup backup of `source` into a fresh destination `folder`. */
export function backupContender(
  source: string,
  compression: Compression,
  folder: string,
  extra: string[] = [],
): Contender {
  return {
    label: LABELS.backup(compression),
    command: tinybackupCommand([
      "--file",
      source,
      "--dest",
      folder,
      "--compress",
      compression,
      "--force",
      "--keep",
      "0",
      ...extra,
    ]),
    ...freshFolder(folder),
  };
}

/**
 * A shell one-liner that reads `$1` and writes `$2`, e.g.
 * `gzip -6 -c "$1" > "$2"`, followed by `sync "$2"`: tinybackup fsyncs each
 * backup before calling it done, so the tools must reach the disk too.
 * `label` is how people type the tool; its first word is the program,
 * unless `program` names the one that may be missing.
 */
export async function shellContender(
  label: string,
  script: string,
  source: string,
  folder: string,
  program = label.split(" ")[0],
): Promise<Contender> {
  return {
    label,
    command: ["sh", "-c", `${script} && sync "$2"`, "sh", source, join(folder, "out")],
    missing: (await hasProgram(program)) ? undefined : `${program} is not installed`,
    ...freshFolder(folder),
  };
}
