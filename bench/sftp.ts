/**
 * The SFTP row of issue 11: `tinybackup --dest sftp://...` against `scp` of
 * a file already compressed to the same size, each made durable (sync), on
 * an sshd the bench starts for itself on 127.0.0.1 (tests/_sshd.ts). The
 * goal adds tinybackup's own compression time (its local gzip row) to scp's.
 */
import { join } from "node:path";
import { SSH_ALIAS, SSHD_REQUIREMENT, type SshServer, startSshd } from "../tests/_sshd.ts";
import { tinybackupCommand } from "./contenders.ts";
import { type Contender, hasProgram } from "./measure.ts";

export const SFTP_LABELS = {
  backup: "tinybackup --dest sftp:// --compress gzip",
  scp: "scp of the gzip'd file",
} as const;

/** Why SFTP cannot be benched here, or undefined when it can. */
export async function sftpMissing(): Promise<string | undefined> {
  const unmet = await SSHD_REQUIREMENT.unmet();
  if (unmet) return unmet;
  return (await hasProgram("scp")) ? undefined : "scp is not installed (Debian: openssh-client)";
}

export function startBenchSshd(): Promise<SshServer> {
  return startSshd();
}

/** The URL of local folder `path` through the bench's sshd. */
export function sftpUrl(path: string): string {
  return `sftp://${SSH_ALIAS}${path}`;
}

/** The contenders: a backup of `source`, and scp of `compressed` (the same, gzip'd); the second is the reference. */
export function sftpContenders(
  /** The ssh config file that reaches the bench's sshd. */
  sshConfig: string,
  source: string,
  compressed: string,
  work: string,
): Contender[] {
  const out = (n: number) => join(work, `sftp-out-${n}`);
  const emptied = (folder: string): Pick<Contender, "before" | "after"> => ({
    before: () => Deno.mkdir(folder, { recursive: true }),
    async after() {
      let bytes = 0;
      for await (const entry of Deno.readDir(folder)) {
        if (entry.isFile) bytes += (await Deno.stat(join(folder, entry.name))).size;
      }
      await Deno.remove(folder, { recursive: true });
      return bytes;
    },
  });
  return [
    {
      label: SFTP_LABELS.backup,
      command: tinybackupCommand([
        ...["--file", source, "--dest", sftpUrl(out(0)), "--ssh-config", sshConfig],
        ...["--compress", "gzip", "--force", "--keep", "0"],
      ]),
      ...emptied(out(0)),
    },
    {
      label: SFTP_LABELS.scp,
      // The server is this machine: sync here makes the copy as durable as tinybackup's fsync.
      command: [
        "sh",
        "-c",
        'scp -q -F "$3" "$1" "$4:$2/out" && sync "$2/out"',
        "sh",
        compressed,
        out(1),
        sshConfig,
        SSH_ALIAS,
      ],
      ...emptied(out(1)),
    },
  ];
}
