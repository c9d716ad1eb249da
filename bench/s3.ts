/**
 * The S3 rows of issue 11: `tinybackup --dest s3://...` against `rclone
 * copyto` of a file already compressed to the same size, and `list` of a
 * prefix holding thousands of backups, on an S3 server the bench starts for
 * itself on 127.0.0.1 (tests/_s3.ts: moto_server, which keeps objects in
 * memory). The time goal adds tinybackup's own compression time (its local
 * gzip row) to rclone's.
 */
import { AwsClient } from "aws4fetch";
import { formatMetadata, metadataPathFor } from "../lib/backup/metadata.ts";
import { S3_REQUIREMENT, type S3Server, startS3 } from "../tests/_s3.ts";
import { tinybackupCommand } from "./contenders.ts";
import type { MadeBackup } from "./many_backups.ts";
import type { Contender } from "./measure.ts";

export const S3_LABELS = {
  backup: "tinybackup --dest s3:// --compress gzip",
  rclone: "rclone copyto of the gzip'd file",
  list: "tinybackup list --dest s3:// --json",
} as const;

/** Why S3 cannot be benched here, or undefined when it can. */
export function s3Missing(): Promise<string | undefined> {
  return S3_REQUIREMENT.unmet();
}

/**
 * Starts the server, and points this process's environment (so every
 * contender's) at it: tinybackup's AWS_* settings and rclone's remote `s3:`.
 */
export async function startBenchS3(): Promise<S3Server> {
  const s3 = await startS3();
  for (const [name, value] of Object.entries(s3.env)) Deno.env.set(name, value);
  for (const [name, value] of Object.entries(s3.rcloneEnv)) Deno.env.set(name, value);
  // rclone refuses a CA bundle for a plain http:// endpoint; the server is local.
  Deno.env.delete("AWS_CA_BUNDLE");
  return s3;
}

/** The URL of `prefix` in the bench's bucket. */
export function s3Url(s3: S3Server | undefined, prefix: string): string {
  return `s3://${s3?.bucket ?? "bucket"}/${prefix}`;
}

/** The contenders: a backup of `source`, and rclone of `compressed` (the same, gzip'd); the second is the reference. */
export function s3Contenders(
  s3: S3Server | undefined,
  source: string,
  compressed: string,
): Contender[] {
  // Emptied after each run: moto keeps every object in memory.
  const emptied = (prefix: string): Pick<Contender, "after"> => ({
    async after() {
      if (!s3) return undefined;
      const bytes = await storedBytes(s3, prefix);
      await s3.rclone(["purge", `s3:${s3.bucket}/${prefix}`]);
      return bytes;
    },
  });
  return [
    {
      label: S3_LABELS.backup,
      command: tinybackupCommand([
        ...["--file", source, "--dest", s3Url(s3, "bench-0")],
        ...["--compress", "gzip", "--force", "--keep", "0"],
      ]),
      ...emptied("bench-0"),
    },
    {
      label: S3_LABELS.rclone,
      command: ["rclone", "copyto", compressed, `s3:${s3?.bucket ?? "bucket"}/bench-1/out.gz`],
      ...emptied("bench-1"),
    },
  ];
}

/** Bytes of the backups under `prefix` (not of the hidden folder). */
async function storedBytes(s3: S3Server, prefix: string): Promise<number> {
  const listing = new TextDecoder().decode(
    await s3.rclone(["lsjson", "--recursive", `s3:${s3.bucket}/${prefix}`]),
  );
  return (JSON.parse(listing) as { Path: string; Size: number }[])
    .filter((entry) => !entry.Path.startsWith(".tinybackup"))
    .reduce((sum, entry) => sum + entry.Size, 0);
}

/** Uploads `backups` and their metadata under `prefix`, a few at a time. */
export async function uploadBackups(
  s3: S3Server,
  prefix: string,
  backups: MadeBackup[],
): Promise<void> {
  const aws = new AwsClient({
    accessKeyId: s3.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY,
    service: "s3",
    region: s3.env.AWS_REGION,
    retries: 0,
  });
  const put = async (key: string, body: Uint8Array<ArrayBuffer> | string) => {
    const response = await aws.fetch(`${s3.endpoint}/${s3.bucket}/${prefix}/${key}`, {
      method: "PUT",
      body,
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`uploading ${key}: HTTP ${response.status}`);
  };
  let next = 0;
  const worker = async () => {
    while (next < backups.length) {
      const backup = backups[next++];
      await put(backup.file, backup.stored as Uint8Array<ArrayBuffer>);
      await put(metadataPathFor(backup.file), formatMetadata(backup.metadata));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** `list` of the prefix `many`, which uploadBackups filled. */
export function s3ListContender(s3: S3Server | undefined): Contender {
  return {
    label: S3_LABELS.list,
    command: tinybackupCommand(["list", "--dest", s3Url(s3, "many"), "--json"]),
  };
}
