/**
 * What the numbers were measured on: the machine, the tools' versions, and
 * how busy the machine was. A tool that is missing reads "unknown".
 */
import os from "node:os";

export interface Machine {
  cpu: string;
  cores: number;
  memory: string;
  os: string;
  /** The 1, 5 and 15 minute load averages when the bench started. */
  load: string;
  /** The same when it ended: a higher load than the bench's own two processes means interference. */
  loadAtEnd?: string;
  /** The file system type of the folder the bench worked in: fsync's cost depends on it. */
  workFileSystem: string;
  /** Tool name to its version line. */
  tools: Record<string, string>;
}

/** The first non-empty line `command` prints (on stdout or stderr), or "unknown". */
async function firstLine(command: string[]): Promise<string> {
  try {
    const [program, ...args] = command;
    const { stdout, stderr } = await new Deno.Command(program, { args, stdin: "null" }).output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    return text.split("\n").map((line) => line.trim()).find((line) => line !== "") ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** The 1, 5 and 15 minute load averages, e.g. `0.31 1.68 1.66`. */
export function loadAverage(): string {
  return os.loadavg().map((load) => load.toFixed(2)).join(" ");
}

/** Describes this machine; `workFolder` is where the bench writes. */
export async function describeMachine(workFolder: string): Promise<Machine> {
  // node:os reads /proc/cpuinfo, /proc/meminfo and /proc/loadavg for us: Deno
  // itself refuses to read /proc without --allow-all.
  return {
    cpu: os.cpus()[0]?.model.trim() || "unknown",
    cores: navigator.hardwareConcurrency,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    load: loadAverage(),
    workFileSystem: await firstLine(["stat", "-f", "-c", "%T", workFolder]),
    tools: {
      deno: await firstLine([Deno.execPath(), "--version"]),
      gzip: await firstLine(["gzip", "--version"]),
      pigz: await firstLine(["pigz", "--version"]),
      zstd: await firstLine(["zstd", "--version"]),
      cp: await firstLine(["cp", "--version"]),
    },
  };
}
