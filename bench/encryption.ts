/**
 * The encryption rows of issue 13: `tinybackup --compress zstd --recipient`
 * against the pipe it replaces, `zstd -3 | age -r`, each made durable (sync).
 * The age key is made for the run with age-keygen, in the work folder.
 */
import { join } from "node:path";
import { backupContender, freshFolder } from "./contenders.ts";
import { type Contender, hasProgram } from "./measure.ts";

export const ENCRYPTION_LABELS = {
  backup: "tinybackup --compress zstd --recipient",
  pipe: "zstd -3 | age -r",
} as const;

/** Why encryption cannot be benched here, or undefined when it can. */
export async function encryptionMissing(): Promise<string | undefined> {
  for (const program of ["age", "age-keygen", "zstd"]) {
    if (!(await hasProgram(program))) {
      return `${program} is not installed (Debian: apt-get install ${
        program === "zstd" ? "zstd" : "age"
      })`;
    }
  }
  return undefined;
}

/** A new age key pair in `work`; returns its recipient. */
export async function makeBenchKey(work: string): Promise<string> {
  const file = join(work, "bench-key.txt");
  const { success, stderr } = await new Deno.Command("age-keygen", {
    args: ["-o", file],
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`age-keygen failed: ${new TextDecoder().decode(stderr)}`);
  return /age1[0-9a-z]+/.exec(await Deno.readTextFile(file))![0];
}

/** The contenders on `source`; the second is the reference. */
export function encryptionContenders(
  source: string,
  recipient: string,
  work: string,
  missing?: string,
): Contender[] {
  const folder = (n: number) => join(work, `encrypted-out-${n}`);
  const backup = backupContender(source, "zstd", folder(0), ["--recipient", recipient]);
  return [
    { ...backup, label: ENCRYPTION_LABELS.backup, missing },
    {
      label: ENCRYPTION_LABELS.pipe,
      command: [
        "sh",
        "-c",
        'zstd -3 -q -c "$1" | age -r "$3" > "$2" && sync "$2"',
        "sh",
        source,
        join(folder(1), "out"),
        recipient,
      ],
      missing,
      ...freshFolder(folder(1)),
    },
  ];
}
