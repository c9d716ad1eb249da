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
 * A bucket has no owners or modes to check as a folder has: whoever may
 * write under the prefix may plant backups there. Give each host keys that
 * reach its own prefix only.
 */
import { createHash } from "node:crypto";
import type { Access } from "../../backup/permissions.ts";
import { RunError, UsageError } from "../../errors.ts";
import {
  isAbandoned,
  localScratchFile,
  removeLocalScratchLeftovers,
  stagedName,
} from "../remote_staging.ts";
import type { ScratchFile, Staged, Store } from "../store.ts";
import type { AwsSettings } from "./aws_config.ts";
import { S3Client, S3Error } from "./s3_client.ts";
import { completeBody, parseListPage, parseUploadsPage, text } from "./s3_xml.ts";

/** The first thousand parts' size; each next thousand is one more of it (10,000 parts, S3's limit, hold about 430 GiB). */
const PART = 8 * 1024 * 1024;

/** Parts uploading at once while the next one fills: bounded memory, a full link. */
const PARTS_IN_FLIGHT = 2;

/** The most one UploadPartCopy copies (S3's limit is 5 GiB). */
const COPY_PART = 1024 * 1024 * 1024;

/** A staged object older than this, by the server's clock, belongs to a dead run. */
const STAGED_ABANDONED_AFTER_SECONDS = 3600;

/** An unfinished upload older than this belongs to a dead run (a slow source may take hours). */
const UPLOAD_ABANDONED_AFTER_SECONDS = 24 * 3600;

const PROBE_PREFIX = ".tinybackup-probe-";

export class S3Store implements Store {
  readonly #client: S3Client;

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
    const response = await this.#send(
      { method: "GET", query: { "list-type": "2", "max-keys": "1", prefix: this.#key("") } },
      `cannot list ${this.location}`,
    );
    await response.body?.cancel();
    return true;
  }

  async prepare(): Promise<void> {
    // One probe tells that the bucket exists and these keys may write and remove there.
    const probe = `${PROBE_PREFIX}${crypto.randomUUID()}`;
    const response = await this.#send(
      { method: "PUT", key: this.#key(probe), body: new Uint8Array() },
      `cannot write to ${this.location}`,
    );
    await response.body?.cancel();
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
  ): Promise<Response> {
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
          "the keys need s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on the prefix",
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
            part = new Uint8Array(partSize(upload.parts + 1));
            filled = 0;
          }
        }
      }
      if (!upload) return new S3StagedBytes(this, part.slice(0, filled));
      if (filled > 0) await upload.add(part.subarray(0, filled));
      return new S3StagedObject(this, await upload.complete());
    } catch (error) {
      await upload?.abort();
      throw error instanceof S3Error
        ? this.#explain(error, `cannot upload to ${this.location}; no backup was made`)
        : error;
    }
  }

  async #startUpload(): Promise<MultipartUpload> {
    const key = this.#key(`${this.stagingFolder}/${stagedName()}`);
    const response = await this.#send(
      { method: "POST", key, query: { uploads: "" } },
      `cannot upload to ${this.location}`,
    );
    const uploadId = text(await response.text(), "UploadId");
    if (!uploadId) throw new RunError(`${this.location}: the server gave no upload id`);
    return new MultipartUpload(this.#client, key, uploadId, this.location);
  }

  /** Publishes `bytes` as `name` with one PUT, unless `name` exists. */
  async publishBytes(bytes: Uint8Array<ArrayBuffer>, name: string): Promise<boolean> {
    const key = this.#key(name);
    if (await this.#size(key) !== undefined) return false;
    const response = await this.#send(
      {
        method: "PUT",
        key,
        headers: { "If-None-Match": "*", "Content-MD5": md5Base64(bytes) },
        body: bytes,
      },
      `cannot publish ${name} in ${this.location}`,
      [200, 412, 409],
    );
    await response.body?.cancel();
    if (response.status !== 200) return false; // taken meanwhile (409: by a write in flight)
    await this.#checkSize(key, bytes.length);
    return true;
  }

  /**
   * Publishes the staged object `staged` as `name`, unless `name` exists: a
   * server-side multipart copy, completed only if the name is still free.
   */
  async publishObject(staged: { key: string; size: number }, name: string): Promise<boolean> {
    const key = this.#key(name);
    if (await this.#size(key) !== undefined) return false;
    const what = `cannot publish ${name} in ${this.location}`;
    const start = await this.#send({ method: "POST", key, query: { uploads: "" } }, what);
    const uploadId = text(await start.text(), "UploadId") ?? "";
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
        etags.push(text(await copied.text(), "ETag") ?? "");
      }
      const done = await this.#send(
        {
          method: "POST",
          key,
          query: { uploadId },
          headers: { "If-None-Match": "*" },
          body: completeBody(etags),
        },
        what,
        [200, 412, 409],
      );
      const answer = await done.text();
      // A copy can fail after its 200 has begun: the error is then in the body.
      if (done.status === 200 && /<Error>/.test(answer)) {
        throw new RunError(`${what}: ${text(answer, "Code")}: ${text(answer, "Message")}`);
      }
      if (done.status !== 200) {
        await this.#abort(key, uploadId);
        return false;
      }
    } catch (error) {
      await this.#abort(key, uploadId);
      throw error;
    }
    await this.#checkSize(key, staged.size);
    await this.remove(this.#name(staged.key));
    return true;
  }

  async #abort(key: string, uploadId: string): Promise<void> {
    await this.#client.send({ method: "DELETE", key, query: { uploadId } }, [204, 200, 404])
      .then((response) => response.body?.cancel(), () => {});
  }

  /** Removes the staged object `key` (see S3StagedObject). */
  async removeStaged(key: string): Promise<void> {
    await this.remove(this.#name(key));
  }

  /** The name of `key` inside the store. */
  #name(key: string): string {
    return this.prefix === "" ? key : key.slice(this.prefix.length + 1);
  }

  async #checkSize(key: string, sent: number): Promise<void> {
    const stored = await this.#size(key);
    if (stored !== sent) {
      throw new RunError(
        `${this.pathOf(this.#name(key))} holds ${stored ?? "no"} bytes of the ${sent} sent`,
        "run 'tinybackup verify' on the destination",
      );
    }
  }

  /** The size of `key`, or undefined when there is no such object. */
  async #size(key: string): Promise<number | undefined> {
    const found = await this.#head(key);
    return found?.size;
  }

  async #head(key: string): Promise<{ size: number; changed: number } | undefined> {
    const response = await this.#send(
      { method: "HEAD", key },
      `cannot read ${this.pathOf(this.#name(key))}`,
      [200, 404],
    );
    if (response.status === 404) return undefined;
    return {
      size: Number(response.headers.get("content-length") ?? NaN),
      changed: Date.parse(response.headers.get("last-modified") ?? "") / 1000,
    };
  }

  scratchFile(): ScratchFile {
    return localScratchFile();
  }

  async list(folder: string): Promise<string[]> {
    const names: string[] = [];
    for await (const object of this.#objects(folder, "/")) names.push(object.key);
    return names;
  }

  /** The objects directly inside `folder` (with `delimiter` "/"), or below it (""); keys relative to it. */
  async *#objects(folder: string, delimiter: "/" | "") {
    const prefix = this.#key(folder) === "" ? "" : `${this.#key(folder)}/`;
    let token: string | undefined;
    do {
      const query: Record<string, string> = { "list-type": "2", prefix };
      if (delimiter) query.delimiter = delimiter;
      if (token !== undefined) query["continuation-token"] = token;
      const response = await this.#send(
        { method: "GET", query },
        `cannot list ${this.pathOf(folder)}`,
      );
      const page = parseListPage(await response.text());
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
    const response = await this.#send(
      { method: "GET", key: this.#key(name) },
      `cannot read ${this.pathOf(name)}`,
      [200, 404],
    );
    if (response.status === 404) {
      await response.body?.cancel();
      throw new Deno.errors.NotFound(`${this.pathOf(name)} not found`);
    }
    return await response.text();
  }

  /**
   * The object's bytes. A download cut off midway goes on from where it
   * stopped (a few times), from the same version of the object.
   */
  async *read(name: string): AsyncGenerator<Uint8Array> {
    const key = this.#key(name);
    let offset = 0;
    let etag: string | undefined;
    for (let cuts = 0;; cuts++) {
      const headers: Record<string, string> = {};
      if (etag !== undefined) {
        headers.Range = `bytes=${offset}-`;
        headers["If-Match"] = etag;
      }
      const response = await this.#send(
        { method: "GET", key, headers },
        `cannot read ${this.pathOf(name)}`,
        [200, 206, 404, 416],
      );
      if (response.status === 404) {
        await response.body?.cancel();
        throw new Deno.errors.NotFound(`${this.pathOf(name)} not found`);
      }
      if (response.status === 416) return; // resumed exactly at the end
      etag ??= response.headers.get("etag") ?? "*";
      try {
        for await (const chunk of response.body ?? []) {
          offset += chunk.length;
          yield chunk;
        }
        return;
      } catch (error) {
        if (cuts >= 3) {
          throw new RunError(
            `the download of ${this.pathOf(name)} from ${this.#client.endpoint} was cut off: ${
              error instanceof Error ? error.message : error
            }`,
          );
        }
      }
    }
  }

  async remove(name: string): Promise<void> {
    const response = await this.#send(
      { method: "DELETE", key: this.#key(name) },
      `cannot remove ${this.pathOf(name)}`,
      [204, 200, 404],
    );
    await response.body?.cancel();
  }

  async removeIfAbandoned(
    name: string,
    stillAbandoned: () => Promise<boolean> = () => Promise.resolve(true),
  ): Promise<boolean> {
    const found = await this.#head(this.#key(name));
    if (
      !found ||
      !isAbandoned(name, found.changed, this.#serverNow(), STAGED_ABANDONED_AFTER_SECONDS) ||
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
    for (const name of await this.list(this.stagingFolder)) {
      await this.removeIfAbandoned(`${this.stagingFolder}/${name}`);
    }
    for (const name of await this.list("")) {
      if (name.startsWith(PROBE_PREFIX)) await this.removeIfAbandoned(name);
    }
    await this.#abortAbandonedUploads();
    await removeLocalScratchLeftovers();
  }

  /** Aborts unfinished uploads of dead runs: only under this store's staging prefix. */
  async #abortAbandonedUploads(): Promise<void> {
    const prefix = `${this.#key(this.stagingFolder)}/`;
    let marker: { keyMarker: string; uploadIdMarker: string } | undefined;
    do {
      const query: Record<string, string> = { uploads: "", prefix };
      if (marker) {
        query["key-marker"] = marker.keyMarker;
        query["upload-id-marker"] = marker.uploadIdMarker;
      }
      const response = await this.#send(
        { method: "GET", query },
        `cannot list the unfinished uploads of ${this.location}`,
      );
      const page = parseUploadsPage(await response.text());
      for (const upload of page.uploads) {
        if (
          isAbandoned(
            upload.key,
            upload.initiated,
            this.#serverNow(),
            UPLOAD_ABANDONED_AFTER_SECONDS,
          )
        ) {
          await this.#abort(upload.key, upload.uploadId);
        }
      }
      marker = page.next;
    } while (marker);
  }
}

/** A multipart upload in progress: parts go up a few at a time, in order of their numbers. */
class MultipartUpload {
  #etags: string[] = [];
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

  /** Sends `part` (kept until sent: the caller gives a new buffer for the next). */
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
      }).then(async (response) => {
        await response.body?.cancel();
        this.#etags[number - 1] = response.headers.get("etag") ?? "";
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
    const response = await this.client.send({
      method: "POST",
      key: this.key,
      query: { uploadId: this.uploadId },
      body: completeBody(this.#etags),
    });
    const answer = await response.text();
    if (/<Error>/.test(answer)) {
      throw new RunError(
        `cannot upload to ${this.location}: ${text(answer, "Code")}: ${text(answer, "Message")}`,
      );
    }
    return { key: this.key, size: this.#size };
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.#inFlight);
    await this.client.send({
      method: "DELETE",
      key: this.key,
      query: { uploadId: this.uploadId },
    }, [204, 200, 404]).then((response) => response.body?.cancel(), () => {});
  }
}

/** A backup small enough to be held in memory until it is published with one PUT. */
class S3StagedBytes implements Staged {
  constructor(private readonly store: S3Store, private readonly bytes: Uint8Array<ArrayBuffer>) {}

  publish(name: string): Promise<boolean> {
    return this.store.publishBytes(this.bytes, name);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A backup uploaded under the staging prefix, published by a copy to its name. */
class S3StagedObject implements Staged {
  #published = false;

  constructor(
    private readonly store: S3Store,
    private readonly staged: { key: string; size: number },
  ) {}

  async publish(name: string): Promise<boolean> {
    this.#published = await this.store.publishObject(this.staged, name);
    return this.#published;
  }

  async close(): Promise<void> {
    if (this.#published) return;
    await this.store.removeStaged(this.staged.key).catch(() => {});
  }
}

/** The size of part `number` (from 1): 8 MiB for the first thousand, then 16, 24 and so on. */
export function partSize(number: number): number {
  return PART * Math.ceil(number / 1000);
}

function md5Base64(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("base64");
}
