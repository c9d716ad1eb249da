/**
 * An SFTP session over the system `ssh` (`ssh -s HOST sftp`, as `sftp` and
 * restic start it), so ~/.ssh/config, keys, the agent and known_hosts apply,
 * with the options every connection of tinybackup has (ssh_host.ts). Many
 * requests may be under way at once: each has an id, and replies are
 * matched to them as they come, so reads and writes stream without waiting
 * a round trip per chunk.
 */
import { RunError, UsageError } from "../../errors.ts";
import {
  describeHost,
  SSH_ENVIRONMENT,
  SSH_FAILED,
  sshError,
  type SshHost,
  sshProblemOf,
  sshSubsystemArgv,
} from "../../ssh/ssh_host.ts";
import {
  type Attrs,
  type Field,
  FXP,
  packet,
  PacketSplitter,
  PROTOCOL_VERSION,
  Reader,
  STATUS,
} from "./sftp_protocol.ts";

/** A request the server refused, with its status code (STATUS). */
export class SftpError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = "SftpError";
  }
}

/** The connection ended (ssh exited) while requests were under way, or before: the run fails. */
export class SftpConnectionLost extends RunError {
  constructor(message: string) {
    super(message, "check the network and the host, then run again");
    this.name = "SftpConnectionLost";
  }
}

interface Waiting {
  resolve(reply: { type: number; body: Reader }): void;
  reject(error: Error): void;
}

export class SftpSession implements AsyncDisposable {
  readonly #waiting = new Map<number, Waiting>();
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #nextId = 1;
  #ended: Error | undefined;
  readonly #exited: Promise<Deno.CommandStatus>;

  private constructor(
    private readonly child: Deno.ChildProcess,
    readonly host: SshHost,
    /** The extensions the server announced, e.g. `hardlink@openssh.com`. */
    readonly extensions: Set<string>,
    private readonly splitter: PacketSplitter,
    reader: ReadableStreamDefaultReader<Uint8Array>,
    /** What ssh wrote to stderr, once it has ended. */
    private readonly stderr: Promise<string>,
  ) {
    this.#writer = child.stdin.getWriter();
    this.#exited = child.status;
    this.#readReplies(reader);
  }

  /**
   * Connects and agrees on version 3, trying again a few times while the
   * host cannot be reached.
   * @param retry false to try once: to tell at once whether a job's host is up
   * @throws {UsageError} when ssh is not installed, refuses the host key or
   *   the login, or the host has no SFTP server
   * @throws {RunError} when the host cannot be reached
   */
  static async open(host: SshHost, retry = true): Promise<SftpSession> {
    const delays = retry ? CONNECT_RETRY_DELAYS : [];
    for (let attempt = 0;; attempt++) {
      try {
        return await SftpSession.#openOnce(host);
      } catch (error) {
        if (!(error instanceof Unreachable) || attempt === delays.length) throw error;
        await new Promise((wake) => setTimeout(wake, delays[attempt]));
      }
    }
  }

  static async #openOnce(host: SshHost): Promise<SftpSession> {
    const argv = sshSubsystemArgv(host, "sftp");
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        env: SSH_ENVIRONMENT,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        detached: true, // no terminal to ask on, for any ssh it starts (see SSH_ENVIRONMENT)
      }).spawn();
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new UsageError(
        `${argv[0]} is not installed; tinybackup reaches ${describeHost(host)} with it`,
        "install OpenSSH's client (Debian: apt-get install openssh-client)",
      );
    }
    const writer = child.stdin.getWriter();
    const reader = child.stdout.getReader();
    const splitter = new PacketSplitter();
    const stderr = new Response(child.stderr).text();
    try {
      await writer.write(packet(FXP.INIT, PROTOCOL_VERSION));
      writer.releaseLock();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const { type, body } of splitter.add(value)) {
          if (type !== FXP.VERSION) throw new Error(`not an SFTP reply (type ${type})`);
          const fields = new Reader(body);
          fields.u32(); // the server's version: 3 from every server in use
          const extensions = new Set<string>();
          while (!fields.done) {
            extensions.add(fields.string());
            fields.bytesField();
          }
          return new SftpSession(child, host, extensions, splitter, reader, stderr);
        }
      }
    } catch (error) {
      try {
        child.kill("SIGKILL");
      } catch {
        // ssh ended first (a refused connection ends it at once).
      }
      await child.status;
      if (!(error instanceof Error && error.message.startsWith("not an SFTP reply"))) {
        throw await startFailure(host, child, await stderr);
      }
      throw new UsageError(
        `${describeHost(host)} does not speak SFTP: ${error.message}`,
        "check that its sshd has an sftp subsystem, and that the login shell prints nothing",
      );
    }
    throw await startFailure(host, child, await stderr);
  }

  async #readReplies(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const { type, body } of this.splitter.add(value)) {
          const fields = new Reader(body);
          const id = fields.u32();
          const waiting = this.#waiting.get(id);
          this.#waiting.delete(id);
          waiting?.resolve({ type, body: fields });
        }
      }
      this.#end(new SftpConnectionLost(await this.#lostMessage()));
    } catch (error) {
      this.#end(
        error instanceof Error ? error : new SftpConnectionLost(String(error)),
      );
    }
  }

  async #lostMessage(): Promise<string> {
    const said = (await this.stderr).trim().split("\n").filter((l) => l !== "").join("; ");
    return `the SFTP connection to ${describeHost(this.host)} was lost${
      said ? ` (ssh said: ${said})` : ""
    }`;
  }

  #end(error: Error): void {
    this.#ended ??= error;
    for (const waiting of this.#waiting.values()) waiting.reject(this.#ended);
    this.#waiting.clear();
  }

  /** Sends a request and waits for its reply. */
  async #request(type: number, ...fields: Field[]): Promise<{ type: number; body: Reader }> {
    if (this.#ended) throw this.#ended;
    const id = this.#nextId;
    this.#nextId = (this.#nextId % 0xffffffff) + 1;
    const reply = new Promise<{ type: number; body: Reader }>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
    });
    await this.#writer.write(packet(type, id, ...fields)).catch(() => {});
    return reply;
  }

  /** A STATUS reply as nothing (OK) or an SftpError; any other reply is unexpected. */
  #status(reply: { type: number; body: Reader }, what: string): void {
    if (reply.type !== FXP.STATUS) throw new Error(`${what}: unexpected SFTP reply ${reply.type}`);
    const code = reply.body.u32();
    if (code === STATUS.OK) return;
    const message = reply.body.done ? "" : reply.body.string();
    throw new SftpError(code, `${what}: ${message || statusText(code)}`);
  }

  #handle(reply: { type: number; body: Reader }, what: string): Uint8Array {
    if (reply.type === FXP.HANDLE) return reply.body.bytesField().slice();
    this.#status(reply, what);
    throw new Error(`${what}: no handle in the reply`);
  }

  async open(path: string, flags: number, attrs: Attrs = {}): Promise<Uint8Array> {
    return this.#handle(await this.#request(FXP.OPEN, path, flags, attrs), `open ${path}`);
  }

  async close(handle: Uint8Array): Promise<void> {
    this.#status(await this.#request(FXP.CLOSE, handle), "close");
  }

  async write(handle: Uint8Array, offset: number, data: Uint8Array): Promise<void> {
    this.#status(await this.#request(FXP.WRITE, handle, BigInt(offset), data), "write");
  }

  /** Up to `length` bytes at `offset`; undefined at the end of the file. */
  async read(handle: Uint8Array, offset: number, length: number): Promise<Uint8Array | undefined> {
    const reply = await this.#request(FXP.READ, handle, BigInt(offset), length);
    if (reply.type === FXP.DATA) return reply.body.bytesField();
    try {
      this.#status(reply, "read");
    } catch (error) {
      if (error instanceof SftpError && error.code === STATUS.EOF) return undefined;
      throw error;
    }
    return undefined;
  }

  /** The attributes of `path` (links followed with stat, not with lstat); undefined if none is there. */
  async stat(path: string, follow = true): Promise<Attrs | undefined> {
    const reply = await this.#request(follow ? FXP.STAT : FXP.LSTAT, path);
    if (reply.type === FXP.ATTRS) return reply.body.attrs();
    try {
      this.#status(reply, `stat ${path}`);
    } catch (error) {
      if (error instanceof SftpError && error.code === STATUS.NO_SUCH_FILE) return undefined;
      throw error;
    }
    return undefined;
  }

  async fstat(handle: Uint8Array): Promise<Attrs> {
    const reply = await this.#request(FXP.FSTAT, handle);
    if (reply.type === FXP.ATTRS) return reply.body.attrs();
    this.#status(reply, "fstat");
    throw new Error("fstat: no attributes in the reply");
  }

  async setPermissions(handle: Uint8Array, permissions: number): Promise<void> {
    this.#status(await this.#request(FXP.FSETSTAT, handle, { permissions }), "chmod");
  }

  /** Sets the file's modification (and access) time, in seconds since the epoch. */
  async setTime(handle: Uint8Array, mtime: number): Promise<void> {
    this.#status(await this.#request(FXP.FSETSTAT, handle, { mtime }), "set time");
  }

  async mkdir(path: string, permissions: number): Promise<void> {
    this.#status(await this.#request(FXP.MKDIR, path, { permissions }), `mkdir ${path}`);
  }

  async remove(path: string): Promise<void> {
    this.#status(await this.#request(FXP.REMOVE, path), `remove ${path}`);
  }

  /** Renames; OpenSSH's server never replaces an existing `to` (it fails instead). */
  async rename(from: string, to: string): Promise<void> {
    this.#status(await this.#request(FXP.RENAME, from, to), `rename ${from}`);
  }

  /** The file's data and attributes on stable storage (fsync@openssh.com). */
  async fsync(handle: Uint8Array): Promise<void> {
    this.#status(await this.#request(FXP.EXTENDED, "fsync@openssh.com", handle), "fsync");
  }

  /** Bytes free for this user on the file system of `path` (statvfs@openssh.com). */
  async freeBytes(path: string): Promise<number | undefined> {
    if (!this.extensions.has("statvfs@openssh.com")) return undefined;
    const reply = await this.#request(FXP.EXTENDED, "statvfs@openssh.com", path);
    if (reply.type !== FXP.EXTENDED_REPLY) return undefined;
    reply.body.u64(); // f_bsize
    const fragment = reply.body.u64();
    reply.body.u64(); // f_blocks
    reply.body.u64(); // f_bfree
    return reply.body.u64() * fragment; // f_bavail: what is free for a user who is not root
  }

  /** The names in folder `path`, with their attributes ("." and ".." left out). */
  async readdir(path: string): Promise<{ name: string; attrs: Attrs }[]> {
    const handle = this.#handle(await this.#request(FXP.OPENDIR, path), `list ${path}`);
    const entries: { name: string; attrs: Attrs }[] = [];
    try {
      for (;;) {
        const reply = await this.#request(FXP.READDIR, handle);
        if (reply.type !== FXP.NAME) {
          try {
            this.#status(reply, `list ${path}`);
          } catch (error) {
            if (error instanceof SftpError && error.code === STATUS.EOF) break;
            throw error;
          }
          break;
        }
        for (let n = reply.body.u32(); n > 0; n--) {
          const name = reply.body.string();
          reply.body.string(); // the long name, as ls -l shows it
          const attrs = reply.body.attrs();
          if (name !== "." && name !== "..") entries.push({ name, attrs });
        }
      }
    } finally {
      await this.close(handle).catch(() => {});
    }
    return entries;
  }

  /** `path` as the server resolves it: absolute, without `.` or `..`. */
  async realpath(path: string): Promise<string> {
    const reply = await this.#request(FXP.REALPATH, path);
    if (reply.type === FXP.NAME && reply.body.u32() >= 1) return reply.body.string();
    this.#status(reply, `resolve ${path}`);
    throw new Error(`resolve ${path}: no name in the reply`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#end(new SftpConnectionLost("the SFTP session was closed"));
    await this.#writer.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = await Promise.race([
      this.#exited,
      new Promise<undefined>((wake) => timer = setTimeout(() => wake(undefined), 2000)),
    ]);
    clearTimeout(timer);
    if (!ended) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // It ended meanwhile.
      }
      await this.#exited;
    }
  }
}

/** Waits between tries to connect while the network or the host is down: a few, bounded. */
const CONNECT_RETRY_DELAYS = [1000, 4000];

/** The host could not be reached, or dropped the connection: worth trying again, else exit 1. */
class Unreachable extends RunError {}

/**
 * Why ssh ended before the session began: bad input (exit 2) for a host key
 * or a login refused, a run-time failure (exit 1) for a network that is down.
 */
async function startFailure(
  host: SshHost,
  child: Deno.ChildProcess,
  stderr: string,
): Promise<UsageError | RunError> {
  const { code } = await child.status;
  if (code === SSH_FAILED) {
    const problem = sshProblemOf(stderr);
    const refusal = sshError(host, stderr.trim());
    return problem === "unreachable" || problem === "lost"
      ? new Unreachable(refusal.message, refusal.hint)
      : refusal;
  }
  return new UsageError(
    `cannot start SFTP on ${describeHost(host)}${stderr.trim() ? `: ${stderr.trim()}` : ""}`,
    "check that its sshd has an sftp subsystem",
  );
}

function statusText(code: number): string {
  switch (code) {
    case STATUS.NO_SUCH_FILE:
      return "no such file";
    case STATUS.PERMISSION_DENIED:
      return "permission denied";
    case STATUS.OP_UNSUPPORTED:
      return "not supported by the server";
    default:
      return `failure (SFTP status ${code})`;
  }
}
