/**
 * A store in a folder of an FTP server, plain or over explicit TLS
 * (basic-ftp). Files are uploaded to the hidden staging folder while they
 * are read and compressed, checked for their size (SIZE), and published
 * with RNFR/RNTO. RNTO replaces an existing name on common servers
 * (vsftpd, pure-ftpd), so a publish first takes the destination's publish
 * lock (a folder: MKD either makes it or fails) and checks the name is
 * free under it: a name is never replaced, and a dropped connection or a
 * killed run leaves no visible partial.
 *
 * FTP gives one command at a time per connection: every operation takes
 * its turn on the one connection. A server's listing says little about
 * owners, so, as on S3, whoever may write the folder can plant backups
 * there.
 */
import { PassThrough, Readable } from "node:stream";
import { rootCertificates } from "node:tls";
import { Client, FTPError } from "basic-ftp";
import type { Access } from "../../backup/permissions.ts";
import { RunError, UsageError } from "../../errors.ts";
import {
  isAbandoned,
  localScratchFile,
  localSeriesLock,
  PROBE_PREFIX,
  removeRemoteLeftovers,
  stagedName,
} from "../remote_staging.ts";
import { escapeUrlPath } from "../remote_url.ts";
import type { ScratchFile, Staged, Store } from "../store.ts";
import type { FtpDestination } from "./ftp_url.ts";

/** A staged file of another machine that has not changed for this long belongs to a dead run. */
const ABANDONED_AFTER_SECONDS = 3600;

/** A publish lock older than this belongs to a killed run (a publish holds it for a moment). */
const STALE_LOCK_SECONDS = 120;

/** How long a publish waits for another's lock before it fails: past when a killed run's is stale. */
const LOCK_WAIT_MS = (STALE_LOCK_SECONDS + 60) * 1000;

/** Tries to connect: the first and two more, 1 and 2 s later. */
const CONNECT_TRIES = 3;

/** How long the server may keep a command waiting. */
const TIMEOUT_MS = 60_000;

const PUBLISH_LOCK = "publish.lock";
/** The file inside the lock folder whose time says when the lock was taken (LIST times are coarse). */
const LOCK_OWNER = "owner";

/** What the store logs in with: from ~/.netrc, never argv. */
export interface FtpLogin {
  login: string;
  password: string;
}

export class FtpStore implements Store {
  #client: Client | undefined;
  /** Operations wait their turn on the one connection. */
  #turn: Promise<unknown> = Promise.resolve();
  /** The server's clock less ours, in seconds, once a file was made there (prepare). */
  #clockOffset = 0;
  /** Whether the server refused a data connection for not resuming the TLS session. */
  #reuseRequired = false;
  /** Why the last connection could not be made: operations queued behind it fail at once. */
  #connectFailure: Error | undefined;
  readonly #internal: string;

  /**
   * @param stagingFolder folder inside the hidden folder for files not yet published
   * @param ca extra certificates to trust (SSL_CERT_FILE), in PEM
   */
  constructor(
    readonly location: string,
    private readonly destination: FtpDestination,
    private readonly credentials: FtpLogin,
    private readonly stagingFolder: string,
    private readonly ca?: string,
  ) {
    this.#internal = stagingFolder.split("/")[0];
  }

  /** The URL of `name`, %-escaped as URLs are: restore reads it back. */
  pathOf(name: string): string {
    return [this.location.replace(/\/+$/, ""), escapeUrlPath(name)].join("/");
  }

  #remote(name: string): string {
    const root = this.destination.path === "/" ? "" : this.destination.path;
    const path = name === "" ? root || "/" : `${root}/${name}`;
    // FTP commands end at a line break: a name with one would smuggle in another command.
    // deno-lint-ignore no-control-regex -- control characters are what it looks for
    if (/[\r\n\x00]/.test(path)) {
      throw new UsageError(`an FTP destination cannot hold a name with a line break: ${name}`);
    }
    return path;
  }

  /** Runs `task` on the connection once the operations before it are done. */
  #run<T>(task: (client: Client) => Promise<T>): Promise<T> {
    const result = this.#turn.then(async () => await task(await this.#connected()));
    this.#turn = result.catch(() => {});
    return result;
  }

  async #connected(): Promise<Client> {
    if (this.#client && !this.#client.closed) return this.#client;
    if (this.#connectFailure) throw this.#connectFailure;
    try {
      return await this.#connect();
    } catch (error) {
      this.#connectFailure = error as Error;
      throw error;
    }
  }

  async #connect(): Promise<Client> {
    const { host, port, tls } = this.destination;
    let lastProblem: unknown;
    for (let attempt = 1; attempt <= CONNECT_TRIES; attempt++) {
      if (attempt > 1) await new Promise((wake) => setTimeout(wake, 1000 * (attempt - 1)));
      const client = new Client(TIMEOUT_MS);
      // vsftpd's refusal of a data connection that does not resume the TLS session is
      // followed by a closed connection, which is all basic-ftp reports: its log tells why.
      client.ftp.verbose = true;
      this.#reuseRequired = false;
      client.ftp.log = (line: string) => {
        if (/(^|\n)(< )?522 .*reuse/i.test(line)) this.#reuseRequired = true;
      };
      try {
        await client.access({
          host,
          port,
          user: this.credentials.login,
          password: this.credentials.password,
          secure: tls,
          secureOptions: {
            // A name to check the certificate against; node refuses an IP address there.
            ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
            ...(this.ca ? { ca: [...rootCertificates, this.ca] } : {}),
          },
        });
        this.#client = client;
        return client;
      } catch (error) {
        client.close();
        const refusal = this.#refusal(error, true);
        if (refusal) throw refusal;
        lastProblem = error;
      }
    }
    throw new RunError(
      `cannot reach the FTP server ${host}:${port}: ${
        messageOf(lastProblem)
      }, ${CONNECT_TRIES} tries`,
      "check that it runs and the network, then run again",
    );
  }

  /** What no retry would change: a refused login, TLS the server or this machine will not do. */
  #refusal(error: unknown, connecting = false): UsageError | undefined {
    const { host, tls } = this.destination;
    if (error instanceof FTPError && error.code === 530) {
      return new UsageError(
        `the FTP server ${host} refused the login of '${this.credentials.login}' (${error.message})`,
        "check the login and password for it in ~/.netrc",
      );
    }
    if (this.#reuseRequired || (error instanceof FTPError && /reuse/i.test(error.message))) {
      return new UsageError(
        `the FTP server ${host} requires TLS session reuse between connections, which tinybackup's TLS (Deno's) cannot do yet`,
        "on vsftpd, set require_ssl_reuse=NO in vsftpd.conf (the other TLS checks stay)",
      );
    }
    if (
      connecting && error instanceof FTPError && tls &&
      (error.code === 500 || error.code === 502 || error.code === 504 || error.code === 534)
    ) {
      return new UsageError(
        `the FTP server ${host} does not offer TLS (AUTH TLS: ${error.message})`,
        "use ftp:// only if this network may see the password; better, turn TLS on there",
      );
    }
    const code = (error as { code?: string })?.code ?? "";
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT/.test(code)) {
      return new UsageError(
        `the TLS certificate of the FTP server ${host} is not trusted (${messageOf(error)})`,
        "point SSL_CERT_FILE at the PEM file of its certificate or of the authority that signed it",
      );
    }
    return undefined;
  }

  /** An FTP refusal during work: bad input where it is one (no such folder, no permission), else a run error. */
  #explain(error: unknown, what: string): Error {
    if (error instanceof UsageError || error instanceof RunError) return error;
    const refusal = this.#refusal(error);
    if (refusal) return refusal;
    if (error instanceof FTPError) {
      if (error.code === 550 || error.code === 553) {
        return new UsageError(
          `${what}: ${error.message}`,
          "check the folder and its permissions there",
        );
      }
      return new RunError(`${what}: ${error.message}`);
    }
    return new RunError(
      `${what}: the FTP connection to ${this.destination.host} was lost (${messageOf(error)})`,
    );
  }

  /** Whether the folder exists there (for commands that only read). */
  async folderExists(): Promise<boolean> {
    return await this.#run(async (client) => {
      try {
        return await isFolder(client, this.#remote(""));
      } catch (error) {
        throw this.#explain(error, `cannot reach ${this.location}`);
      }
    });
  }

  async close(): Promise<void> {
    await this.#turn;
    this.#client?.close();
    this.#client = undefined;
    this.#connectFailure = undefined;
  }

  async prepare(): Promise<void> {
    await this.#run(async (client) => {
      for (const folder of ["", this.#internal, this.stagingFolder]) {
        await makeFolder(client, this.#remote(folder)).catch((error) => {
          throw this.#explain(error, `cannot create ${this.pathOf(folder)}`);
        });
      }
      // Both folders take new files; the probe's time tells the server's clock.
      for (const folder of ["", this.stagingFolder]) {
        const probe = this.#remote(
          `${folder === "" ? "" : `${folder}/`}${PROBE_PREFIX}${crypto.randomUUID()}`,
        );
        try {
          await client.uploadFrom(Readable.from([]), probe);
          const made = await client.lastMod(probe).catch(() => undefined);
          if (made) this.#clockOffset = made.getTime() / 1000 - Date.now() / 1000;
          await client.remove(probe);
        } catch (error) {
          throw this.#explain(error, `cannot write to ${this.pathOf(folder)}`);
        }
      }
    });
  }

  #serverNow(): number {
    return Date.now() / 1000 + this.#clockOffset;
  }

  async stage(
    data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    _access: () => Access,
  ): Promise<Staged> {
    const path = this.#remote(`${this.stagingFolder}/${stagedName()}`);
    let sent = 0;
    let sourceFailure: unknown;
    // Copies: a chunk's memory is reused once the next is asked for, and the socket may hold it.
    const copies = async function* () {
      try {
        for await (const chunk of data) {
          sent += chunk.length;
          // Never an empty write: a TLS data socket refuses one (EPERM).
          if (chunk.length > 0) yield chunk.slice();
        }
      } catch (error) {
        sourceFailure = error;
        throw error;
      }
    };
    return await this.#run(async (client) => {
      try {
        await client.uploadFrom(Readable.from(copies(), { objectMode: false }), path);
        if (sourceFailure) throw sourceFailure;
        // Read-only for its owner, where the server lets it be set.
        await client.send(`SITE CHMOD 400 ${path}`).catch(() => {});
        const stored = await client.size(path);
        if (stored !== sent) {
          throw new RunError(
            `${this.location} stored ${stored} bytes of the ${sent} sent; no backup was made`,
            "check the free space there, then run again",
          );
        }
      } catch (error) {
        await client.remove(path, true).catch(() => {});
        if (sourceFailure) throw sourceFailure;
        if (error instanceof FTPError && [451, 452, 552].includes(error.code)) {
          throw new RunError(
            `the disk of ${this.location} is full (${error.message}); nothing was left half-written and no backup was removed`,
            "free some space there and run again",
          );
        }
        throw this.#explain(error, `cannot upload to ${this.location}; no backup was made`);
      }
      return new FtpStaged(this, path, sent);
    });
  }

  /**
   * Renames the staged file at `path` (of `size` bytes) to `name` unless
   * `name` exists: under the publish lock, since RNTO would replace it.
   */
  async publish(path: string, name: string, size: number): Promise<boolean> {
    const target = this.#remote(name);
    try {
      return await this.#run(async (client) => {
        const lock = this.#remote(`${this.#internal}/${PUBLISH_LOCK}`);
        await this.#takePublishLock(client, lock);
        try {
          if (await sizeOf(client, target) !== undefined) return false;
          await client.rename(path, target);
          return true;
        } finally {
          await client.remove(`${lock}/${LOCK_OWNER}`, true).catch(() => {});
          await client.send(`RMD ${lock}`).catch(() => {});
        }
      });
    } catch (error) {
      if (error instanceof FTPError || error instanceof UsageError || error instanceof RunError) {
        throw this.#explain(error, `cannot publish ${name} in ${this.location}`);
      }
      // The connection dropped: the rename may have been done before the answer was lost.
      this.#client?.close();
      const done = await this.#run(async (client) =>
        await sizeOf(client, path) === undefined && await sizeOf(client, target) === size
      ).catch(() => false);
      if (done) return true;
      throw this.#explain(error, `cannot publish ${name} in ${this.location}`);
    }
  }

  /**
   * Takes the publish lock: a folder MKD makes or fails to make, with a file
   * in it whose time says since when it is held. A lock a killed run left is
   * taken over by renaming it away first, which only one waiter can do.
   */
  async #takePublishLock(client: Client, lock: string): Promise<void> {
    const deadline = performance.now() + LOCK_WAIT_MS;
    while (true) {
      try {
        await client.send(`MKD ${lock}`);
        await client.uploadFrom(Readable.from([]), `${lock}/${LOCK_OWNER}`);
        return;
      } catch (error) {
        if (!(error instanceof FTPError && error.code === 550)) throw error;
      }
      const since = await client.lastMod(`${lock}/${LOCK_OWNER}`).then(
        (date) => date.getTime() / 1000,
        () => undefined, // not written yet, or just released
      );
      if (since !== undefined && this.#serverNow() - since > STALE_LOCK_SECONDS) {
        const away = `${lock}.stale-${crypto.randomUUID()}`;
        const taken = await client.rename(lock, away).then(() => true, () => false);
        if (taken) {
          await client.remove(`${away}/${LOCK_OWNER}`, true).catch(() => {});
          await client.send(`RMD ${away}`).catch(() => {});
        }
        continue;
      }
      if (performance.now() >= deadline) {
        throw new RunError(
          `another run has been publishing to ${this.location} for over ${
            LOCK_WAIT_MS / 60_000
          } minutes; this run made no backup`,
          `if no run is going on there, remove the folder ${lock} on the server`,
        );
      }
      await new Promise((wake) => setTimeout(wake, 200));
    }
  }

  /** Removes the staged file at `path`. */
  removeStaged(path: string): Promise<void> {
    return this.#run(async (client) => {
      await client.remove(path, true).catch(() => {});
    });
  }

  tryLock(key: string, holder: string): Promise<AsyncDisposable | { heldBy: string }> {
    return localSeriesLock(this.location, key, holder);
  }

  scratchFile(): ScratchFile {
    return localScratchFile();
  }

  list(folder: string): Promise<string[]> {
    return this.#run(async (client) => {
      try {
        return (await client.list(this.#remote(folder)))
          .filter((entry) => entry.isFile)
          .map((entry) => entry.name);
      } catch (error) {
        if (error instanceof FTPError && error.code === 550) return [];
        throw this.#explain(error, `cannot list ${this.pathOf(folder)}`);
      }
    });
  }

  exists(name: string): Promise<boolean> {
    return this.#run(async (client) => (await sizeOf(client, this.#remote(name))) !== undefined);
  }

  async readText(name: string): Promise<string> {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of this.read(name)) text += decoder.decode(chunk, { stream: true });
    return text + decoder.decode();
  }

  /** The file's bytes, as the server sends them (with backpressure: the server waits for the reader). */
  async *read(name: string): AsyncGenerator<Uint8Array> {
    const pipe = new PassThrough();
    const path = this.#remote(name);
    let failure: unknown;
    let started = false;
    let finished = false;
    const download = this.#run(async (client) => {
      started = true;
      await client.downloadTo(pipe, path);
    }).catch((error) => {
      // Failed, or could not start (no connection): the reader must not wait for more.
      failure = error;
      pipe.destroy(error as Error);
    }).finally(() => finished = true);
    let readAll = false;
    try {
      for await (const chunk of pipe) yield chunk as Uint8Array;
      readAll = true;
    } catch (error) {
      failure ??= error;
      readAll = true;
    } finally {
      if (started && !finished && !readAll) {
        // Stopped early: the server's late answer would be taken for the next command's.
        this.#client?.close();
      }
      pipe.destroy();
      await download;
    }
    if (failure instanceof FTPError && failure.code === 550) {
      throw new Deno.errors.NotFound(`${this.pathOf(name)} not found`);
    }
    if (failure) throw this.#explain(failure, `cannot read ${this.pathOf(name)}`);
  }

  remove(name: string): Promise<void> {
    return this.#run(async (client) => {
      try {
        await client.remove(this.#remote(name));
      } catch (error) {
        // 550 is both "no such file" and "not allowed": only the first is done.
        if (
          !(error instanceof FTPError && error.code === 550) ||
          await sizeOf(client, this.#remote(name)) !== undefined
        ) {
          throw this.#explain(error, `cannot remove ${this.pathOf(name)}`);
        }
      }
    });
  }

  async removeIfAbandoned(
    name: string,
    stillAbandoned: () => Promise<boolean> = () => Promise.resolve(true),
  ): Promise<boolean> {
    const changed = await this.#run((client) =>
      // A server without MDTM: only a dead run of this machine tells its leftovers apart.
      client.lastMod(this.#remote(name)).then((date) => date.getTime() / 1000, () => undefined)
    );
    if (!isAbandoned(name, changed, this.#serverNow(), ABANDONED_AFTER_SECONDS)) return false;
    if (!(await stillAbandoned())) return false;
    await this.remove(name);
    return true;
  }

  /** Nothing to do: FTP has no fsync; a file is checked for its size before it is published. */
  sync(_folder: string): Promise<void> {
    return Promise.resolve();
  }

  async removeLeftovers(): Promise<void> {
    await removeRemoteLeftovers(this, this.stagingFolder);
  }
}

class FtpStaged implements Staged {
  #published = false;

  constructor(
    private readonly store: FtpStore,
    private readonly path: string,
    private readonly size: number,
  ) {}

  async publish(name: string): Promise<boolean> {
    this.#published = await this.store.publish(this.path, name, this.size);
    return this.#published;
  }

  async close(): Promise<void> {
    if (!this.#published) await this.store.removeStaged(this.path);
  }
}

/** Makes `path` and the folders above it that are missing, as `mkdir -p`. */
async function makeFolder(client: Client, path: string): Promise<void> {
  if (path === "/" || path === "" || await isFolder(client, path)) return;
  await makeFolder(client, path.slice(0, path.lastIndexOf("/")));
  await client.send(`MKD ${path}`);
}

/**
 * Whether `path` is a folder there: whether the server lets the session go
 * into it (a listing of a missing folder is only empty on some servers).
 */
async function isFolder(client: Client, path: string): Promise<boolean> {
  try {
    await client.send(`CWD ${path}`);
    return true;
  } catch (error) {
    if (error instanceof FTPError && error.code === 550) return false;
    throw error;
  }
}

/** The size of the file at `path`, or undefined when there is none. */
async function sizeOf(client: Client, path: string): Promise<number | undefined> {
  try {
    return await client.size(path);
  } catch (error) {
    if (error instanceof FTPError && error.code === 550) return undefined;
    throw error;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
