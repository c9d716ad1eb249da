/**
 * A command's standard output, as `sh -c` runs it (as at(1) runs jobs),
 * with standard input closed. Unlike a pipe into --stdin, the run sees how
 * the command ended: only an exit code that means success makes a backup, so
 * a dump cut short by a failing or killed producer is never stored as good.
 *
 * The command runs in a session of its own: it can never stop to ask for a
 * password on the terminal, and a run that ends early (a failure, Ctrl-C)
 * stops it and everything it started, not only the shell.
 */
import type { SourceInfo } from "../backup/metadata.ts";
import { RunError, UsageError } from "../errors.ts";
import { readStreamChunks } from "../io/chunks.ts";
import { onInterrupt } from "../io/interrupt.ts";
import { LineSplitter, OutputTail } from "./output_tail.ts";
import { launchArgv, onHost, runProgram, shellFinds } from "./program_host.ts";
import { describeHost, SSH_FAILED, sshHint, type SshHost, sshProblemOf } from "../ssh/ssh_host.ts";
import type { Source } from "./source.ts";

/** How long a stopped command has to end after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 5000;

/** The same when tinybackup itself is interrupted: it exits right after. */
const INTERRUPT_GRACE_MS = 200;

/**
 * How long stdout may stay open after the command ended: longer only if a
 * process it left in the background holds it, which would hang the run.
 */
const HOLDER_GRACE_MS = 5000;

/**
 * How long, after the command exits, its error output may take to end: a
 * process it left in the background may hold the pipe open for good.
 */
const STDERR_GRACE_MS = 1000;

/** A program to run, and what to call it and record of it. */
export interface ProcessSettings {
  /** The program and its arguments, run as they are (no shell between). */
  argv: string[];
  /** The process in messages: "command 'pg_dump app'". */
  label: string;
  /** Exit codes besides 0 that mean success. */
  okExit: readonly number[];
  info: SourceInfo;
  /** Variables to set in its environment, on top of this process's. */
  env?: Record<string, string>;
  /** Hashes the content for "unchanged", masking what the program writes differently each time. */
  identityHash?: () => { update(chunk: Uint8Array): void; digest(): string };
  /** Where it runs: here, or on this host through ssh (which then sets `env` there). */
  host?: SshHost;
  /** What each read feeds its standard input (closed when not given). */
  input?: () => ReadableStream<Uint8Array>;
  /**
   * Takes each line of its error output as it comes; a line it returns true
   * for is understood (the caller reports it), and is not quoted.
   */
  stderrLine?: (line: string) => boolean;
}

export class CommandSource implements Source {
  readonly rereadable = false;
  readonly expectedSize = undefined;
  /** What the command's last run wrote to stderr, at its end. */
  #stderr: string[] = [];
  #identity: string | undefined;
  /** The command of the read under way. */
  #running: Deno.ChildProcess | undefined;
  /** How the last read's command ended. */
  #exitCode: number | undefined;

  constructor(private readonly settings: ProcessSettings) {}

  /**
   * Checks that the shell can parse `command` and can find the program it
   * starts with, without running it.
   * @throws {UsageError} when it cannot
   */
  static async open(
    command: string,
    okExit: readonly number[],
    host?: SshHost,
  ): Promise<CommandSource> {
    // Parsed by the shell that will run it: on the host, that host's sh.
    const syntax = await runProgram(host, ["/bin/sh", "-n", "-c", command]);
    if (syntax.code !== 0) {
      const said = syntax.stderr.split("\n").at(-1);
      throw new UsageError(
        `the shell cannot parse the command '${command}'${said ? `: ${said}` : ""}`,
        "quote the command as one argument, e.g. --command 'pg_dump -Fc app'",
      );
    }
    const program = leadingProgram(command);
    if (program !== undefined && !(await shellFinds(program, host))) {
      throw new UsageError(
        `the command '${command}' starts a program the shell cannot find${
          onHost(host)
        }: ${program}`,
        "install it, or give its full path",
      );
    }
    return new CommandSource({
      argv: ["/bin/sh", "-c", command],
      label: `command '${command}'${onHost(host)}`,
      okExit,
      info: {
        kind: "command",
        command,
        ...(host === undefined ? {} : { host: describeHost(host) }),
      },
      host,
    });
  }

  async *read(): AsyncGenerator<Uint8Array> {
    const { host, input, stderrLine } = this.settings;
    const launch = launchArgv(host, this.settings.argv, this.settings.env);
    const child = new Deno.Command(launch.argv[0], {
      args: launch.argv.slice(1),
      env: launch.env,
      stdin: input ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      detached: true, // a session of its own (setsid): see the top of this file
    }).spawn();
    this.#running = child;
    const identity = this.settings.identityHash?.();
    this.#identity = undefined;
    const forget = onInterrupt(() => {
      // The process is about to exit: no time to wait for the command, so it is ended for sure.
      signalGroup(child.pid, "SIGTERM");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, INTERRUPT_GRACE_MS);
      signalGroup(child.pid, "SIGKILL");
    });
    const tail = new OutputTail();
    const lines = stderrLine
      ? new LineSplitter((line) => {
        if (!stderrLine(line)) tail.addLine(line);
      })
      : undefined;
    const stderrRead = child.stderr.getReader();
    const stderrDone = (async () => {
      for (let next = await stderrRead.read(); !next.done; next = await stderrRead.read()) {
        if (lines) lines.add(next.value);
        else tail.add(next.value);
      }
      lines?.end();
    })().catch(() => {});
    // What fails in feeding its input (the input's own producer failing) fails the read.
    let inputFailure: unknown;
    const stopFeeding = new AbortController();
    const feeding = input?.().pipeTo(child.stdin, { signal: stopFeeding.signal }).catch((error) => {
      if (!stopFeeding.signal.aborted) inputFailure ??= error;
    });
    let status: Deno.CommandStatus | undefined;
    // A process the command left in the background may hold stdout open for good: once the
    // command has ended, it has a grace period, then its whole session is stopped.
    let leftHolding = false;
    let finished = false;
    let holderTimer: ReturnType<typeof setTimeout> | undefined;
    child.status.then(() => {
      if (finished) return;
      const timer = setTimeout(() => {
        leftHolding = true;
        signalGroup(child.pid, "SIGKILL");
      }, HOLDER_GRACE_MS);
      Deno.unrefTimer(timer);
      holderTimer = timer;
    });
    try {
      for await (const chunk of readStreamChunks(child.stdout)) {
        identity?.update(chunk);
        yield chunk;
      }
      status = await child.status;
      await Promise.race([stderrDone, delay(STDERR_GRACE_MS)]);
      await feeding;
    } finally {
      finished = true;
      if (!status) stopFeeding.abort();
      this.#running = undefined;
      clearTimeout(holderTimer);
      if (!status) await stop(child);
      await stderrRead.cancel().catch(() => {});
      this.#stderr = tail.lines();
      forget();
    }
    if (leftHolding) {
      throw new RunError(
        `${this.settings.label} ended, but left a process holding its output open; no backup was made`,
        "send background processes' output elsewhere (e.g. '>/dev/null'), or wait for them in the command",
      );
    }
    this.#exitCode = status.code;
    if (host !== undefined && status.code === SSH_FAILED) {
      const said = this.#stderr.join("; ");
      throw new RunError(
        `${this.settings.label}: ssh to ${describeHost(host)} failed${
          said ? ` (ssh said: ${said})` : ""
        }; no backup was made`,
        sshHint(sshProblemOf(said), host),
      );
    }
    const problem = exitProblem(status, this.settings.okExit);
    if (problem) {
      throw new RunError(
        `${this.settings.label} ${problem}; no backup was made${this.#quotedStderr()}`,
        "run the command by hand to see why; a backup is made only when it succeeds",
      );
    }
    if (inputFailure !== undefined) throw inputFailure;
    this.#identity = identity?.digest();
  }

  abort(): void {
    if (this.#running) stop(this.#running).catch(() => {});
  }

  /** The exit code of the last read's command, once it ended. */
  exitCode(): number | undefined {
    return this.#exitCode;
  }

  identity(): string | undefined {
    return this.#identity;
  }

  changedDuringLastRead(): Promise<boolean> {
    return Promise.resolve(false);
  }

  unexpectedlyEmpty(): string {
    return `${this.settings.label} printed nothing${this.#quotedStderr()}`;
  }

  ownership(): undefined {
    return undefined;
  }

  info(): SourceInfo {
    return this.settings.info;
  }

  /** What a successful run wrote to stderr, worth passing on as warnings. */
  warnings(): string[] {
    return this.#stderr.length === 0 ? [] : [`${this.settings.label}${this.#quotedStderr()}`];
  }

  #quotedStderr(): string {
    return this.#stderr.length === 0 ? "" : `; its stderr ended: ${this.#stderr.join(" | ")}`;
  }
}

/**
 * Why the command's end means failure, in words, or undefined when it
 * succeeded. A shell that did not hand over to the command reports a death
 * by signal N as exit code 128 + N, which is said too.
 */
export function exitProblem(
  status: Pick<Deno.CommandStatus, "code" | "signal">,
  okExit: readonly number[],
): string | undefined {
  if (status.signal) return `was killed by ${status.signal}`;
  if (status.code === 0 || okExit.includes(status.code)) return undefined;
  const bySignal = status.code > 128 && status.code < 160
    ? ` (what a shell reports for a command killed by signal ${status.code - 128})`
    : "";
  return `failed with exit code ${status.code}${bySignal}`;
}

/**
 * The program a command line starts with, when it is a plain word the
 * shell looks up (not an assignment, keyword, or anything with quotes or
 * expansions in it); undefined otherwise.
 */
export function leadingProgram(command: string): string | undefined {
  const word = /^\s*([A-Za-z0-9_./+-]+)(\s|$)/.exec(command)?.[1];
  if (word === undefined || SHELL_WORDS.has(word)) return undefined;
  return word;
}

/** Words that begin a compound command, which the shell never looks up as programs. */
const SHELL_WORDS = new Set(["if", "while", "until", "for", "case", "exec", "!", "{", "time"]);

/**
 * Stops the command and all it started: politely first, then for sure (the
 * shell may end on SIGTERM while what it started ignores it).
 */
async function stop(child: Deno.ChildProcess): Promise<void> {
  signalGroup(child.pid, "SIGTERM");
  await Promise.race([child.status, delay(STOP_GRACE_MS)]);
  signalGroup(child.pid, "SIGKILL");
  await child.status;
}

function signalGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pid, signal); // the whole session the command leads
  } catch {
    // Every process in it has ended already.
  }
}

function delay(ms: number): Promise<false> {
  return new Promise((wake) => {
    const timer = setTimeout(() => wake(false), ms);
    Deno.unrefTimer(timer);
  });
}
