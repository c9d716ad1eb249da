/**
 * A store under a prefix of an S3 bucket (AWS, Ceph, MinIO or any
 * S3-compatible store). Names are keys below the prefix; the hidden folder
 * is the `.tinybackup/` part of it.
 *
 * Uploads stream: a backup smaller than one part is held in memory and
 * published with one PUT; a larger one goes up in parts (a few in flight)
 * as a multipart upload under the hidden staging prefix, and is published
 * by a server-side copy to its name. Both publish with `If-None-Match: *`,
 * so a name that exists is never replaced (checked first as well, for
 * stores that ignore the condition). Nothing is visible under a backup's
 * name until it is complete; a killed run leaves an unfinished upload or a
 * staged object, which the next run aborts or removes.
 *
 * Every part is sent with its Content-MD5, so the server refuses a part
 * that arrived damaged, and the stored size is checked after each upload.
 *
 * Reading one metadata object per backup would take a round trip each, so
 * the hidden folder keeps a cache of them all in one object: an entry is
 * used only while its MD5 equals the ETag the listing gives for that
 * metadata object, so a stale or planted entry is never believed, only
 * read again. A command that read many metadata objects anew rewrites it.
 *
 * A bucket has no owners or modes to check as a folder has: whoever may
 * write under the prefix may plant backups there. Give each host keys that
 * reach its own prefix only.
 */
import { createHash } from "node:crypto";
import { parseBackupFileName } from "../../backup/naming.ts";
import type { Access } from "../../backup/permissions.ts";
import { RunError, UsageError } from "../../errors.ts";
import { releaseBuffers } from "../../io/release_buffers.ts";
import {
  isAbandoned,
  localScratchFile,
  localSeriesLock,
  PROBE_PREFIX,
  removeRemoteLeftovers,
  stagedName,
} from "../remote_staging.ts";
import type { ScratchFile, Staged, Store } from "../store.ts";
import type { AwsSettings } from "./aws_config.ts";
import { type S3Answer, S3Client, S3Error } from "./s3_client.ts";
import {
  completeBody,
  type ListedObject,
  type ListedUpload,
  parseListPage,
  parseUploadsPage,
  text,
} from "./s3_xml.ts";

/**
 * The size of the first 2,000 parts (9.8 GiB), S3's least: each part in
 * flight is held two or three times over (its buffer, and fetch's copies),
 * so smaller parts keep a backup under 150 MiB (8 MiB parts took 160 MiB).
 * Each next thousand parts is one more of it: 10,000 parts, S3's limit,
 * hold about 224 GiB.
 */
const PART = 5 * 1024 * 1024;

/** Parts uploading at once while the next one fills: bounded memory, a full link. */
const PARTS_IN_FLIGHT = 2;

/** The most one UploadPartCopy copies (S3's limit is 5 GiB). */
const COPY_PART = 1024 * 1024 * 1024;

/**
 * A staged object, an unfinished upload or metadata without its backup
 * older than this, by the server's clock, belongs to a dead run: nothing
 * touches them while a run goes on (a completed upload's time is when it
 * began), and a slow source may take hours.
 */
const ABANDONED_AFTER_SECONDS = 24 * 3600;

/** The metadata cache, in the hidden folder (see the top of this file). */
const CACHE_NAME = "cache/metadata.json";

/** Metadata objects read anew that make the cache worth rewriting. */
const CACHE_REWRITE_AFTER = 32;

/** The user metadata naming the stage an object was published from (see #isOurs). */
const STAGE_HEADER = "x-amz-meta-tinybackup-stage";

export class S3Store implements Store {
  readonly #client: S3Client;
  /** The hidden folder's metadata objects, by name, and their ETags, as last listed. */
  #listedMetadata = new Map<string, string>();
  /** Metadata texts known to match their listed ETag: from the cache, or read. */
  #metadataTexts = new Map<string, string>();
  /** Metadata objects read anew since the cache was loaded. */
  #misses = 0;

  /**
   * @param location the destination as the user gave it (the URL)
   * @param prefix the key prefix, "" for the whole bucket
   * @param stagingFolder folder inside the hidden folder for uploads not yet published
   */
  constructor(
    readonly location: string,
    private readonly settings: AwsSettings,
    bucket: string,
    private readonly prefix: string,
    private readonly stagingFolder: string,
  ) {
    this.#client = new S3Client(settings, bucket);
  }

  /** The object's s3:// URL, as the AWS CLI and rclone take it. */
  pathOf(name: string): string {
    return name === "" ? this.location : `${this.location}/${name}`;
  }

  #key(name: string): string {
    return [this.prefix, name].filter((part) => part !== "").join("/");
  }

  /** Whether the bucket is there and these keys may list it (for commands that only read). */
  async folderExists(): Promise<boolean> {
    await this.#send(
      { method: "GET", query: { "list-type": "2", "max-keys": "1", prefix: this.#key("") } },
      `cannot list ${this.location}`,
    );
    return true;
  }

  async prepare(): Promise<void> {
    // One probe tells that the bucket exists and these keys may write and remove there.
    const probe = `${PROBE_PREFIX}${crypto.randomUUID()}`;
    await this.#send(
      { method: "PUT", key: this.#key(probe), body: new Uint8Array() },
      `cannot write to ${this.location}`,
    );
    await this.remove(probe);
  }

  /**
   * Sends a request; what the server refuses for good is a UsageError (bad
   * keys, no bucket, no access: exit 2), anything else a RunError.
   */
  async #send(
    request: Parameters<S3Client["send"]>[0],
    what: string,
    ok: readonly number[] = [200],
  ): Promise<S3Answer> {
    try {
      return await this.#client.send(request, ok);
    } catch (error) {
      throw this.#explain(error, what);
    }
  }

  #explain(error: unknown, what: string): Error {
    if (!(error instanceof S3Error)) return error as Error;
    const where = `bucket ${this.#client.bucket} at ${this.#client.endpoint}`;
    switch (error.code) {
      case "NoSuchBucket":
        return new UsageError(
          `${what}: there is no ${where}`,
          "create the bucket, or check the URL, AWS_ENDPOINT_URL and AWS_REGION",
        );
      case "InvalidAccessKeyId":
      case "SignatureDoesNotMatch":
      case "InvalidToken":
      case "ExpiredToken":
        return new UsageError(
          `${what}: the ${where} refused the keys from ${this.settings.keysFrom} (${error.code})`,
          "check aws_access_key_id and aws_secret_access_key, and AWS_PROFILE",
        );
      case "AccessDenied":
        return new UsageError(
          `${what}: access denied by the ${where}`,
          "the keys need s3:ListBucket, s3:ListBucketMultipartUploads, s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload on the prefix",
        );
      case "RequestTimeTooSkewed":
        return new RunError(
          `${what}: this machine's clock is ${
            Math.abs(Math.round(this.#client.clockOffset))
          } s off the server's, which S3 refuses`,
          "set the clock right (NTP), then run again",
        );
      case "AuthorizationHeaderMalformed":
      case "PermanentRedirect":
      case "IllegalLocationConstraintException":
        return new UsageError(
          `${what}: the ${where} is in another region than ${this.settings.region}`,
          "set AWS_REGION (or region in ~/.aws/config) to the bucket's region",
        );
    }
    if (error.status === 403) {
      return new UsageError(`${what}: the ${where} refused: ${error.code}: ${error.message}`);
    }
    return new RunError(`${what}: ${error.code}: ${error.message}`);
  }

  async stage(
    data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    _access: () => Access,
  ): Promise<Staged> {
    let part = new Uint8Array(partSize(1));
    let filled = 0;
    let upload: MultipartUpload | undefined;
    try {
      for await (const chunk of data) {
        for (let at = 0; at < chunk.length;) {
          const taken = Math.min(chunk.length - at, part.length - filled);
          part.set(chunk.subarray(at, at + taken), filled);
          filled += taken;
          at += taken;
          if (filled === part.length) {
            upload ??= await this.#startUpload();
            await upload.add(part);
            part = upload.buffer(partSize(upload.parts + 1));
            filled = 0;
          }
        }
      }
      if (!upload) return new S3StagedBytes(this, part.slice(0, filled));
      if (filled > 0) await upload.add(part.subarray(0, filled));
      const staged = await upload.complete();
      const stored = (await this.#head(staged.key))?.size;
      if (stored !== staged.size) {
        throw new RunError(
          `${this.location} stored ${
            stored ?? "no"
          } bytes of the ${staged.size} sent; no backup was made`,
          "run again; if it goes on, check the store",
        );
      }
      return new S3StagedObject(this, staged);
    } catch (error) {
      await upload?.abort();
      throw error instanceof S3Error
        ? this.#explain(error, `cannot upload to ${this.location}; no backup was made`)
        : error;
    }
  }

  async #startUpload(): Promise<MultipartUpload> {
    const key = this.#key(`${this.stagingFolder}/${stagedName()}`);
    const answer = await this.#send(
      { method: "POST", key, query: { uploads: "" } },
      `cannot upload to ${this.location}`,
    );
    const uploadId = text(answer.text(), "UploadId");
    if (!uploadId) throw new RunError(`${this.location}: the server gave no upload id`);
    return new MultipartUpload(this.#client, key, uploadId, this.location);
  }

  /**
   * Publishes `bytes` as `name` with one PUT, unless `name` exists.
   * @param stage names this publish, so that a retry whose first try did
   *   write (its answer was lost) knows the object is its own
   */
  async publishBytes(
    bytes: Uint8Array<ArrayBuffer>,
    name: string,
    stage: string,
  ): Promise<boolean> {
    const key = this.#key(name);
    if (await this.#head(key)) return false;
    const answer = await this.#send(
      {
        method: "PUT",
        key,
        headers: {
          "If-None-Match": "*",
          "Content-MD5": md5Base64(bytes),
          [STAGE_HEADER]: stage,
        },
        body: bytes,
      },
      `cannot publish ${name} in ${this.location}`,
      [200, 412, 409],
    );
    // Taken meanwhile (409: by a write in flight), unless by this very publish.
    return answer.status === 200 || await this.#isOurs(key, stage);
  }

  /** Whether `key` exists and was published from `stage`. */
  async #isOurs(key: string, stage: string): Promise<boolean> {
    return (await this.#head(key))?.stage === stage;
  }

  /**
   * Publishes the staged object `staged` as `name`, unless `name` exists: a
   * server-side multipart copy, completed only if the name is still free.
   */
  async publishObject(
    staged: { key: string; size: number },
    name: string,
    stage: string,
  ): Promise<boolean> {
    const key = this.#key(name);
    if (await this.#head(key)) return false;
    const what = `cannot publish ${name} in ${this.location}`;
    const start = await this.#send(
      { method: "POST", key, query: { uploads: "" }, headers: { [STAGE_HEADER]: stage } },
      what,
    );
    const uploadId = text(start.text(), "UploadId") ?? "";
    const source = `/${this.#client.bucket}/${
      staged.key.split("/").map(encodeURIComponent).join("/")
    }`;
    try {
      const etags: string[] = [];
      for (let from = 0; from < staged.size; from += COPY_PART) {
        const to = Math.min(staged.size, from + COPY_PART) - 1;
        const copied = await this.#send({
          method: "PUT",
          key,
          query: { partNumber: String(etags.length + 1), uploadId },
          headers: {
            "x-amz-copy-source": source,
            "x-amz-copy-source-range": `bytes=${from}-${to}`,
          },
        }, what);
        etags.push(text(copied.text(), "ETag") ?? "");
      }
      const done = await this.#client.send(
        {
          method: "POST",
          key,
          query: { uploadId },
          headers: { "If-None-Match": "*" },
          body: completeBody(etags),
        },
        [200, 412, 409],
      ).catch((error) => {
        // A retry after a try that did complete (its answer was lost) finds no such upload.
        if (error instanceof S3Error && error.code === "NoSuchUpload") return undefined;
        throw this.#explain(error, what);
      });
      if (done?.status !== 200) {
        await this.#abort(key, uploadId);
        if (!(await this.#isOurs(key, stage))) return false;
      }
    } catch (error) {
      await this.#abort(key, uploadId);
      throw error;
    }
    await this.removeStaged(staged.key).catch(() => {});
    return true;
  }

  async #abort(key: string, uploadId: string): Promise<void> {
    await this.#client.send({ method: "DELETE", key, query: { uploadId } }, [204, 200, 404])
      .catch(() => {});
  }

  /** Removes the staged object `key` (see S3StagedObject). */
  async removeStaged(key: string): Promise<void> {
    await this.remove(this.#name(key));
  }

  /** The name of `key` inside the store. */
  #name(key: string): string {
    return this.prefix === "" ? key : key.slice(this.prefix.length + 1);
  }

  /** The object `key`'s size, time and stage (see #isOurs), or undefined when there is none. */
  async #head(
    key: string,
  ): Promise<{ size: number; changed: number; etag: string; stage?: string } | undefined> {
    const answer = await this.#send(
      { method: "HEAD", key },
      `cannot read ${this.pathOf(this.#name(key))}`,
      [200, 404],
    );
    if (answer.status === 404) return undefined;
    const stage = answer.headers.get(STAGE_HEADER);
    return {
      size: Number(answer.headers.get("content-length") ?? NaN),
      changed: Date.parse(answer.headers.get("last-modified") ?? "") / 1000,
      etag: answer.headers.get("etag") ?? "",
      ...(stage === null ? {} : { stage }),
    };
  }

  tryLock(key: string, holder: string): Promise<AsyncDisposable | { heldBy: string }> {
    return localSeriesLock(this.location, key, holder);
  }

  scratchFile(): ScratchFile {
    return localScratchFile();
  }

  async list(folder: string): Promise<string[]> {
    const objects = await Array.fromAsync(this.#objects(folder, "/"));
    if (folder === this.#internalFolder()) await this.#loadCache(objects);
    return objects.map((object) => object.key);
  }

  #internalFolder(): string {
    return this.stagingFolder.split("/")[0];
  }

  /**
   * Remembers the hidden folder's listing, and takes from the cache the
   * texts whose MD5 is the ETag listed for them.
   */
  async #loadCache(objects: ListedObject[]): Promise<void> {
    this.#listedMetadata = new Map(objects.map((object) => [object.key, object.etag]));
    this.#metadataTexts = new Map();
    this.#misses = 0;
    const cache = await this.#client.send(
      { method: "GET", key: this.#key(`${this.#internalFolder()}/${CACHE_NAME}`) },
      [200, 404],
    ).catch(() => undefined); // a cache that cannot be read is only slower
    if (cache?.status !== 200) return;
    let entries: unknown;
    try {
      entries = JSON.parse(cache.text());
    } catch {
      return;
    }
    if (!Array.isArray(entries)) return;
    for (const entry of entries) {
      if (!Array.isArray(entry) || typeof entry[0] !== "string" || typeof entry[1] !== "string") {
        continue;
      }
      const [name, metadataText] = entry as [string, string];
      const etag = this.#listedMetadata.get(name);
      if (etag !== undefined && etagOf(metadataText) === etag) {
        this.#metadataTexts.set(name, metadataText);
      }
    }
  }

  /** Rewrites the cache, if enough metadata was read anew to make it worth it. */
  async close(): Promise<void> {
    if (this.#misses < CACHE_REWRITE_AFTER) return;
    this.#misses = 0;
    const entries = [...this.#metadataTexts].filter(([name]) => this.#listedMetadata.has(name));
    await this.#client.send({
      method: "PUT",
      key: this.#key(`${this.#internalFolder()}/${CACHE_NAME}`),
      body: JSON.stringify(entries),
    }).catch(() => {}); // only a cache: the next command reads the metadata itself
  }

  /** The objects directly inside `folder` (with `delimiter` "/"), or below it (""); keys relative to it. */
  async *#objects(folder: string, delimiter: "/" | ""): AsyncGenerator<ListedObject> {
    const prefix = this.#key(folder) === "" ? "" : `${this.#key(folder)}/`;
    let token: string | undefined;
    do {
      const query: Record<string, string> = { "list-type": "2", prefix };
      if (delimiter) query.delimiter = delimiter;
      if (token !== undefined) query["continuation-token"] = token;
      const answer = await this.#send(
        { method: "GET", query },
        `cannot list ${this.pathOf(folder)}`,
      );
      const page = parseListPage(answer.text());
      for (const object of page.objects) {
        yield { ...object, key: object.key.slice(prefix.length) };
      }
      token = page.next;
    } while (token !== undefined);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.#head(this.#key(name))) !== undefined;
  }

  async readText(name: string): Promise<string> {
    const folder = name.slice(0, name.lastIndexOf("/") + 1);
    const inInternal = folder === `${this.#internalFolder()}/`;
    const listedName = name.slice(folder.length);
    const cached = inInternal ? this.#metadataTexts.get(listedName) : undefined;
    if (cached !== undefined) return cached;
    const answer = await this.#send(
      { method: "GET", key: this.#key(name) },
      `cannot read ${this.pathOf(name)}`,
      [200, 404],
    );
    if (answer.status === 404) throw new Deno.errors.NotFound(`${this.pathOf(name)} not found`);
    const read = answer.text();
    if (inInternal && this.#listedMetadata.get(listedName) === etagOf(read)) {
      this.#metadataTexts.set(listedName, read);
      this.#misses++;
    }
    return read;
  }

  /**
   * The object's bytes, in ranges of one part, two asked for ahead; each
   * range is tried again on its own, and all are of the version first seen.
   */
  async *read(name: string): AsyncGenerator<Uint8Array> {
    const key = this.#key(name);
    const found = await this.#head(key);
    if (!found) throw new Deno.errors.NotFound(`${this.pathOf(name)} not found`);
    const what = `cannot read ${this.pathOf(name)}`;
    const range = async (from: number): Promise<Uint8Array> => {
      const to = Math.min(found.size, from + PART) - 1;
      const answer = await this.#send(
        {
          method: "GET",
          key,
          headers: { Range: `bytes=${from}-${to}`, "If-Match": found.etag },
        },
        what,
        [206, 200, 404, 412],
      );
      if (answer.status === 404 || answer.status === 412) {
        throw new RunError(`${what}: it was removed or replaced while it was read`);
      }
      // A server that ignores Range sends the whole object (200): take the part asked for.
      const bytes = answer.status === 200 ? answer.body.subarray(from, to + 1) : answer.body;
      if (bytes.length !== to - from + 1) {
        throw new RunError(`${what}: the server sent ${bytes.length} bytes of ${to - from + 1}`);
      }
      return bytes;
    };
    const ahead: Promise<Uint8Array>[] = [];
    let next = 0;
    const refill = () => {
      while (ahead.length < PARTS_IN_FLIGHT && next < found.size) {
        const reading = range(next);
        reading.catch(() => {}); // handled when its turn comes, or dropped with the reader
        ahead.push(reading);
        next += PART;
      }
    };
    try {
      refill();
      while (ahead.length > 0) {
        const bytes = await ahead.shift()!;
        refill();
        yield bytes;
      }
    } finally {
      await Promise.allSettled(ahead);
    }
  }

  async remove(name: string): Promise<void> {
    await this.#send(
      { method: "DELETE", key: this.#key(name) },
      `cannot remove ${this.pathOf(name)}`,
      [204, 200, 404],
    );
  }

  async removeIfAbandoned(
    name: string,
    stillAbandoned: () => Promise<boolean> = () => Promise.resolve(true),
  ): Promise<boolean> {
    const found = await this.#head(this.#key(name));
    if (
      !found ||
      !isAbandoned(name, found.changed, this.#serverNow(), ABANDONED_AFTER_SECONDS) ||
      !(await stillAbandoned())
    ) {
      return false;
    }
    await this.remove(name);
    return true;
  }

  #serverNow(): number {
    return Date.now() / 1000 + this.#client.clockOffset;
  }

  /** Nothing to do: an object is durable once its PUT or its upload completes. */
  sync(_folder: string): Promise<void> {
    return Promise.resolve();
  }

  async removeLeftovers(): Promise<void> {
    await removeRemoteLeftovers(this, this.stagingFolder);
    await this.#abortAbandonedUploads();
  }

  /**
   * Aborts unfinished uploads of dead runs: those under the staging prefix,
   * and the copies that publish a backup (at a backup's name, directly
   * under the prefix). Nobody else's uploads are touched.
   */
  async #abortAbandonedUploads(): Promise<void> {
    const top = this.#key("") === "" ? "" : `${this.#key("")}/`;
    for (const [prefix, delimiter] of [[`${this.#key(this.stagingFolder)}/`, ""], [top, "/"]]) {
      for await (const upload of this.#uploads(prefix, delimiter)) {
        const name = upload.key.slice(top.length);
        const ours = delimiter === "" || parseBackupFileName(name) !== undefined;
        if (
          ours &&
          isAbandoned(upload.key, upload.initiated, this.#serverNow(), ABANDONED_AFTER_SECONDS)
        ) {
          await this.#abort(upload.key, upload.uploadId);
        }
      }
    }
  }

  async *#uploads(prefix: string, delimiter: string): AsyncGenerator<ListedUpload> {
    let marker: { keyMarker: string; uploadIdMarker: string } | undefined;
    do {
      const query: Record<string, string> = { uploads: "", prefix };
      if (delimiter) query.delimiter = delimiter;
      if (marker) {
        query["key-marker"] = marker.keyMarker;
        query["upload-id-marker"] = marker.uploadIdMarker;
      }
      const answer = await this.#send(
        { method: "GET", query },
        `cannot list the unfinished uploads of ${this.location}`,
      );
      const page = parseUploadsPage(answer.text());
      yield* page.uploads;
      marker = page.next;
    } while (marker);
  }
}

/** A multipart upload in progress: parts go up a few at a time, in order of their numbers. */
class MultipartUpload {
  #etags: string[] = [];
  /** Part buffers whose parts are sent. */
  #free: Uint8Array<ArrayBuffer>[] = [];
  #inFlight: Promise<void>[] = [];
  #size = 0;
  #failure: unknown;

  constructor(
    private readonly client: S3Client,
    readonly key: string,
    private readonly uploadId: string,
    private readonly location: string,
  ) {}

  get parts(): number {
    return this.#etags.length;
  }

  /**
   * A buffer for the next part: one whose part is sent, else a new one.
   * Reused, not left to the collector: parts come faster than it frees them.
   */
  buffer(size: number): Uint8Array<ArrayBuffer> {
    const index = this.#free.findIndex((free) => free.length === size);
    return index >= 0 ? this.#free.splice(index, 1)[0] : new Uint8Array(size);
  }

  /** Sends `part`, which stays the upload's until it is sent (then buffer() gives it again). */
  async add(part: Uint8Array<ArrayBuffer>): Promise<void> {
    if (this.#failure) throw this.#failure;
    const number = this.#etags.length + 1;
    this.#etags.push("");
    this.#size += part.length;
    this.#inFlight.push(
      this.client.send({
        method: "PUT",
        key: this.key,
        query: { partNumber: String(number), uploadId: this.uploadId },
        headers: { "Content-MD5": md5Base64(part) },
        body: part,
      }).then((answer) => {
        this.#etags[number - 1] = answer.headers.get("etag") ?? "";
        this.#free.push(part);
        // fetch copied the part: that copy is garbage now (see releaseBuffers).
        releaseBuffers();
      }).catch((error) => {
        this.#failure ??= error;
      }),
    );
    if (this.#inFlight.length >= PARTS_IN_FLIGHT) await this.#inFlight.shift();
    if (this.#failure) throw this.#failure;
  }

  /** Completes the upload: the staged object, checked for its size. */
  async complete(): Promise<{ key: string; size: number }> {
    await Promise.all(this.#inFlight);
    if (this.#failure) throw this.#failure;
    await this.client.send({
      method: "POST",
      key: this.key,
      query: { uploadId: this.uploadId },
      body: completeBody(this.#etags),
    });
    return { key: this.key, size: this.#size };
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.#inFlight);
    await this.client.send({
      method: "DELETE",
      key: this.key,
      query: { uploadId: this.uploadId },
    }, [204, 200, 404]).catch(() => {});
  }
}

/** A backup small enough to be held in memory until it is published with one PUT. */
class S3StagedBytes implements Staged {
  readonly #stage = crypto.randomUUID();

  constructor(private readonly store: S3Store, private readonly bytes: Uint8Array<ArrayBuffer>) {}

  publish(name: string): Promise<boolean> {
    return this.store.publishBytes(this.bytes, name, this.#stage);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A backup uploaded under the staging prefix, published by a copy to its name. */
class S3StagedObject implements Staged {
  #published = false;
  readonly #stage = crypto.randomUUID();

  constructor(
    private readonly store: S3Store,
    private readonly staged: { key: string; size: number },
  ) {}

  async publish(name: string): Promise<boolean> {
    this.#published = await this.store.publishObject(this.staged, name, this.#stage);
    return this.#published;
  }

  async close(): Promise<void> {
    if (this.#published) return;
    await this.store.removeStaged(this.staged.key).catch(() => {});
  }
}

/** The size of part `number` (from 1): 5 MiB for the first 2,000, then 10, 15 and so on (see PART). */
export function partSize(number: number): number {
  return PART * Math.max(1, Math.ceil(number / 1000) - 1);
}

function md5Base64(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("base64");
}

/** The ETag S3 gives an object of `text` put whole: its MD5, quoted. */
function etagOf(text: string): string {
  return `"${createHash("md5").update(text).digest("hex")}"`;
}
