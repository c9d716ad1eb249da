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

/** Tries of one request: the first and three more, 0.5, 1 and 2 s apart (with jitter). */
const TRIES = 4;

/** How long a request other than a download may take before it is tried again. */
const REQUEST_TIMEOUT_MS = 5 * 60 * 1000;

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
   * Sends `request`, tried again on a network error, a timeout, 429 or 5xx.
   * @returns the answer, when its status is one of `ok`
   * @throws {S3Error} for any other status the server gave
   * @throws {RunError} when the endpoint cannot be reached
   */
  async send(request: S3Request, ok: readonly number[] = [200]): Promise<Response> {
    let lastProblem = "";
    for (let attempt = 1; attempt <= TRIES; attempt++) {
      if (attempt > 1) await backoff(attempt);
      let response: Response;
      try {
        response = await this.#aws.fetch(this.url(request.key ?? "", request.query), {
          method: request.method,
          headers: request.headers ?? {},
          ...(request.body === undefined ? {} : { body: request.body }),
          // A download's body may take long; its head is what is waited for here.
          ...(request.method === "GET" ? {} : { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }),
        });
      } catch (error) {
        lastProblem = error instanceof Error ? error.message : String(error);
        continue;
      }
      this.#learnClock(response);
      if (ok.includes(response.status)) return response;
      const body = request.method === "HEAD" ? "" : await response.text().catch(() => "");
      const error = s3Error(response.status, body);
      if (!retryable(error)) throw error;
      lastProblem = `${error.status} ${error.code}`;
    }
    throw new RunError(
      `cannot reach the S3 endpoint ${this.endpoint} (bucket ${this.bucket}): ${lastProblem}, ${TRIES} tries`,
      "check the network and AWS_ENDPOINT_URL, then run again",
    );
  }

  #learnClock(response: Response): void {
    const date = Date.parse(response.headers.get("date") ?? "");
    if (!Number.isNaN(date)) this.clockOffset = (date - Date.now()) / 1000;
  }
}

/** The S3 error an answer with `status` and `body` (S3's XML) describes. */
export function s3Error(status: number, body: string): S3Error {
  const code = text(body, "Code") ?? (status === 404 ? "NotFound" : `HTTP${status}`);
  const message = text(body, "Message") ?? `HTTP status ${status}`;
  return new S3Error(status, code, message);
}

function retryable(error: S3Error): boolean {
  return error.status >= 500 || error.status === 429 || error.code === "RequestTimeout" ||
    error.code === "SlowDown";
}

async function backoff(attempt: number): Promise<void> {
  const ms = 250 * 2 ** (attempt - 1) * (0.75 + Math.random() / 2);
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** A part of a key, %-escaped but for RFC 3986's unreserved characters, as SigV4 wants. */
function encodeKeyPart(part: string): string {
  return encodeURIComponent(part).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
