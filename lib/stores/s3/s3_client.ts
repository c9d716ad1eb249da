/**
 * Signed requests to one bucket of an S3-compatible store (SigV4 through
 * aws4fetch), retried with backoff while the failure may pass (the network,
 * a busy or failing server), and failures the server explains as S3Error.
 * Requests stay plain (no new checksum headers): some S3-compatible stores
 * reject those.
 */
import { AwsClient } from "aws4fetch";
import { RunError } from "../../errors.ts";
import type { AwsSettings } from "./aws_config.ts";
import { text } from "./s3_xml.ts";

/** Tries of one request: the first and three more, 0.25, 0.5 and 1 s apart (with jitter). */
const TRIES = 4;

/** How long a request may take before it is tried again, at least... */
const REQUEST_TIMEOUT_MS = 5 * 60 * 1000;

/** ...and at most this slow a link (bytes a second) for a large body. */
const SLOWEST_LINK = 32 * 1024;

/** A failure the server explained: its HTTP status and S3 error code. */
export class S3Error extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface S3Request {
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  /** The object's key; "" for the bucket itself. */
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Whole, so that a retry can send it again. */
  body?: Uint8Array<ArrayBuffer> | string;
}

/** An answer, read whole: every request here is small or ranged. */
export interface S3Answer {
  status: number;
  headers: Headers;
  body: Uint8Array;
  text(): string;
}

export class S3Client {
  readonly #aws: AwsClient;
  /** The server's clock less ours, in seconds, from the Date of its last answer. */
  clockOffset = 0;

  constructor(private readonly settings: AwsSettings, readonly bucket: string) {
    this.#aws = new AwsClient({
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      ...(settings.sessionToken === undefined ? {} : { sessionToken: settings.sessionToken }),
      service: "s3",
      region: settings.region,
      retries: 0, // retried here, network errors included
    });
  }

  /** The endpoint, for messages. */
  get endpoint(): string {
    return this.settings.endpoint ?? `https://s3.${this.settings.region}.amazonaws.com`;
  }

  /**
   * The URL of `key`: path-style on a custom endpoint (what S3-compatible
   * stores take), virtual-hosted on AWS unless the bucket has dots (TLS).
   */
  url(key: string, query: Record<string, string> = {}): string {
    const path = key.split("/").map(encodeKeyPart).join("/");
    const base = this.settings.endpoint !== undefined
      ? `${this.settings.endpoint}/${this.bucket}`
      : this.bucket.includes(".")
      ? `https://s3.${this.settings.region}.amazonaws.com/${this.bucket}`
      : `https://${this.bucket}.s3.${this.settings.region}.amazonaws.com`;
    const search = new URLSearchParams(query).toString().replace(/\+/g, "%20");
    return `${base}/${path}${search === "" ? "" : `?${search}`}`;
  }

  /**
   * Sends `request` and reads its answer whole, tried again on a network
   * error, a timeout, 429 or 5xx (and the errors S3 sends inside a 200 of
   * a copy or a completed upload).
   * @returns the answer, when its status is one of `ok`
   * @throws {S3Error} for any other status the server gave
   * @throws {RunError} when the endpoint cannot be reached
   */
  async send(request: S3Request, ok: readonly number[] = [200]): Promise<S3Answer> {
    let lastProblem = "";
    const bodyBytes = typeof request.body === "string"
      ? request.body.length
      : request.body?.length ?? 0;
    const timeout = Math.max(REQUEST_TIMEOUT_MS, (bodyBytes / SLOWEST_LINK) * 1000);
    for (let attempt = 1; attempt <= TRIES; attempt++) {
      if (attempt > 1) await backoff(attempt);
      let answer: S3Answer;
      try {
        const response = await this.#aws.fetch(this.url(request.key ?? "", request.query), {
          method: request.method,
          headers: request.headers ?? {},
          ...(request.body === undefined ? {} : { body: request.body }),
          signal: AbortSignal.timeout(timeout),
        });
        const body = new Uint8Array(await response.arrayBuffer());
        answer = {
          status: response.status,
          headers: response.headers,
          body,
          text: () => new TextDecoder().decode(body),
        };
      } catch (error) {
        lastProblem = error instanceof Error ? error.message : String(error);
        continue;
      }
      this.#learnClock(answer.headers);
      const error = ok.includes(answer.status)
        ? errorIn200(request, answer)
        : s3Error(answer.status, request.method === "HEAD" ? "" : answer.text());
      if (!error) return answer;
      if (!retryable(error)) throw error;
      lastProblem = `${error.status} ${error.code}`;
    }
    throw new RunError(
      `cannot reach the S3 endpoint ${this.endpoint} (bucket ${this.bucket}): ${lastProblem}, ${TRIES} tries`,
      "check the network and AWS_ENDPOINT_URL, then run again",
    );
  }

  #learnClock(headers: Headers): void {
    const date = Date.parse(headers.get("date") ?? "");
    if (!Number.isNaN(date)) this.clockOffset = (date - Date.now()) / 1000;
  }
}

/**
 * The error a copy or a CompleteMultipartUpload may send inside a 200 (its
 * status is sent before the work is done), taken for a server error.
 */
function errorIn200(request: S3Request, answer: S3Answer): S3Error | undefined {
  const mayHide = request.method === "POST" ||
    (request.method === "PUT" && request.headers?.["x-amz-copy-source"] !== undefined);
  if (!mayHide || answer.status !== 200) return undefined;
  const body = answer.text();
  if (!/^\s*(<\?xml[^>]*\?>)?\s*<Error>/.test(body)) return undefined;
  return s3Error(500, body);
}

/** The S3 error an answer with `status` and `body` (S3's XML) describes. */
export function s3Error(status: number, body: string): S3Error {
  const code = text(body, "Code") ?? (status === 404 ? "NotFound" : `HTTP${status}`);
  const message = text(body, "Message") ?? `HTTP status ${status}`;
  return new S3Error(status, code, message);
}

function retryable(error: S3Error): boolean {
  return error.status >= 500 || error.status === 429 || error.code === "RequestTimeout" ||
    error.code === "SlowDown" || error.code === "InternalError";
}

async function backoff(attempt: number): Promise<void> {
  const ms = 250 * 2 ** (attempt - 2) * (0.75 + Math.random() / 2);
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** A part of a key, %-escaped but for RFC 3986's unreserved characters, as SigV4 wants. */
function encodeKeyPart(part: string): string {
  return encodeURIComponent(part).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
