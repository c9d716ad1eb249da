/** A small disk for tests of a full destination: a tmpfs of a given size, mounted as root. */
import { programs, requirement, ROOT } from "./_requires.ts";
import { run, tempDir } from "./cli/_cli.ts";

/** Why a tmpfs cannot be mounted here (root, but in a container), or undefined when it can. */
async function tmpfsProblem(): Promise<string | undefined> {
  await using dir = await tempDir();
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir.path],
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(mount.stderr).trim();
  if (mount.code !== 0) {
    // Root without the right to mount (a container): not permitted, so skipped.
    if (/permission denied|not permitted|only root|must be superuser/i.test(stderr)) {
      return `mount refused: ${stderr}`;
    }
    throw new Error(`mount -t tmpfs failed: ${stderr}`);
  }
  await run("umount", [dir.path]);
  return undefined;
}

/** What a small disk needs: root, mount, and the right to mount (not in every container). */
export const SMALL_DISK = [ROOT, programs("mount", "umount"), requirement(tmpfsProblem)];
/** A tmpfs of `bytes` mounted on a fresh folder, unmounted and removed when disposed. */
export async function smallDisk(bytes: number): Promise<{ path: string } & AsyncDisposable> {
  const dir = await tempDir();
  try {
    await run("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir.path]);
  } catch (error) {
    await dir[Symbol.asyncDispose]();
    throw error;
  }
  return {
    path: dir.path,
    async [Symbol.asyncDispose]() {
      try {
        await run("umount", [dir.path]);
      } finally {
        await dir[Symbol.asyncDispose]();
      }
    },
  };
}
