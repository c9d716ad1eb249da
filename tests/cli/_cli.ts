/**
 * Runs the real CLI from source the way a user does, and small helpers for
 * looking at what it left on disk. Tests in tests/cli/ use nothing else.
 */
import { fileURLToPath } from "node:url";

export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
export const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as bytes, for binary output. */
  bytes: Uint8Array;
}

export interface RunOptions {
  stdin?: Uint8Array | string;
  cwd?: string;
  env?: Record<string, string>;
  /** Run as this unprivileged user (root only), e.g. to test permissions. */
  asUser?: { uid: number; gid: number };
  /** Run as if on the machine of this name (root only: in a UTS namespace of its own). */
  host?: string;
}

/** The command line that runs tinybackup from source: `deno run ... main.ts`. */
export function commandLine(args: string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "-q",
    "--v8-flags=--expose-gc",
    "-P=tinybackup",
    "--config",
    CONFIG,
    MAIN,
    ...args,
  ];
}

/** Runs `tinybackup ARGS...` and collects its exit code and output. */
export async function tinybackup(args: string[], options: RunOptions = {}): Promise<Run> {
  let [program, ...rest] = commandLine(args);
  if (options.asUser) {
    rest = [
      `--reuid=${options.asUser.uid}`,
      `--regid=${options.asUser.gid}`,
      "--clear-groups",
      program,
      ...rest,
    ];
    program = "setpriv";
  }
  if (options.host) {
    rest = ["-u", "sh", "-c", 'hostname "$0" && exec "$@"', options.host, program, ...rest];
    program = "unshare";
  }
  const child = new Deno.Command(program, {
    args: rest,
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(
      typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin,
    );
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr), bytes: stdout };
}

/** Runs an ordinary program (gunzip, zstd, ...) and returns its stdout; throws if it fails. */
export async function run(
  program: string,
  args: string[],
  stdin?: Uint8Array,
): Promise<Uint8Array> {
  const child = new Deno.Command(program, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Read while writing: a program whose output fills its pipe stops reading its input.
  const output = child.output();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const { code, stdout, stderr } = await output;
  if (code !== 0) {
    throw new Error(`${program} ${args.join(" ")} failed: ${new TextDecoder().decode(stderr)}`);
  }
  return stdout;
}

/** A fresh temporary folder, removed when the test is done (`await using`). */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  // Its real path, as tinybackup prints paths: macOS keeps temporary folders behind a link (/var).
  const path = await Deno.realPath(await Deno.makeTempDir({ prefix: "tinybackup-test-" }));
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** Every path below `root` (hidden ones too), with size and mode, sorted: a fingerprint of a tree. */
export async function snapshotTree(root: string): Promise<string[]> {
  const entries: string[] = [];
  async function walk(dir: string, prefix: string) {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      const info = await Deno.lstat(path);
      entries.push(`${prefix}${entry.name} ${info.size} ${(info.mode! & 0o7777).toString(8)}`);
      if (entry.isDirectory) await walk(path, `${prefix}${entry.name}/`);
    }
  }
  try {
    await walk(root, "");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    return ["(missing)"];
  }
  return entries.sort();
}

/** Visible (non-hidden) file names in a folder, sorted. */
export async function visibleFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.startsWith(".")) names.push(entry.name);
  }
  return names.sort();
}

/** Bytes that compress like text: numbered lines. */
export function textBytes(lines: number, seed = 0): Uint8Array<ArrayBuffer> {
  let text = "";
  for (let i = 0; i < lines; i++) text += `line ${i} of ${seed}: the quick brown fox\n`;
  return new TextEncoder().encode(text);
}

/** Whether two byte arrays are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** The unprivileged `nobody` user, for tests root would otherwise pass by reading everything. */
export const NOBODY = { uid: 65534, gid: 65534 };

/** Whether tests run as root (and so can, and must, test permissions as another user). */
export const IS_ROOT = Deno.uid() === 0;

/**
 * Runs `tinybackup ARGS...` with a terminal for its stdout and stderr, as a
 * person at a shell has, through script(1) (which needs the command as one
 * shell string, hence the quoting). Returns what the terminal was sent, with
 * the terminal's `\r\n` line ends made `\n` again.
 */
export async function tinybackupOnTerminal(
  args: string[],
): Promise<{ code: number; output: string }> {
  const command = commandLine(args).map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(" ");
  const { code, stdout } = await new Deno.Command("script", {
    args: ["--quiet", "--return", "--command", command, "/dev/null"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, output: new TextDecoder().decode(stdout).replaceAll("\r\n", "\n") };
}
