/**
 * The folder rows of the bench (issue 10): `tinybackup --folder` against
 * `tar | gzip -6` and `tar -I pigz`, each made as durable as a backup, on a
 * folder of many small files and on a folder holding one large file.
 */
import { join } from "node:path";
import { freshFolder, shellContender, tinybackupCommand } from "./contenders.ts";
import { makeTextFile, xorshift32 } from "./data.ts";
import type { Contender } from "./measure.ts";

export const FOLDER_LABELS = {
  backup: "tinybackup --folder --compress gzip",
  tarGzip: "tar -cf - | gzip -6",
  tarPigz: "tar -I pigz -cf",
} as const;

/** The folder tables and what they hold. */
export const FOLDER_KINDS = ["small-files", "large-file"] as const;

/**
 * `count` text files of 1 to 8 KiB (a source tree, a mail folder), spread
 * over folders of 100 files each.
 */
export async function makeSmallFilesFolder(dir: string, count: number): Promise<void> {
  const next = xorshift32(7);
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `d${String(Math.floor(i / 100)).padStart(3, "0")}`);
    if (i % 100 === 0) await Deno.mkdir(sub, { recursive: true });
    await makeTextFile(join(sub, `f${i}.txt`), 1024 + (next() % (7 * 1024)), i + 1);
  }
}

/** One large text file in a folder of its own. */
export async function makeLargeFileFolder(dir: string, bytes: number): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await makeTextFile(join(dir, "large.txt"), bytes, 3);
}

/** The contenders on folder `source`; the second is the reference. */
export async function folderContenders(source: string, work: string): Promise<Contender[]> {
  const out = (n: number) => join(work, `folder-out-${n}`);
  // tar is given the folder's name from its parent, as tinybackup stores it.
  const tarOf = 'tar -C "$(dirname "$1")" -cf - "$(basename "$1")"';
  return [
    {
      label: FOLDER_LABELS.backup,
      command: tinybackupCommand([
        "--folder",
        source,
        "--dest",
        out(0),
        "--compress",
        "gzip",
        "--force",
        "--keep",
        "0",
      ]),
      ...freshFolder(out(0)),
    },
    await shellContender(FOLDER_LABELS.tarGzip, `${tarOf} | gzip -6 > "$2"`, source, out(1)),
    await shellContender(
      FOLDER_LABELS.tarPigz,
      'tar -I pigz -C "$(dirname "$1")" -cf "$2" "$(basename "$1")"',
      source,
      out(2),
      "pigz",
    ),
  ];
}
