/**
 * `s3://BUCKET[/PREFIX]` destinations, as the AWS CLI and rclone name them:
 * backups are the objects `PREFIX/NAME` of the bucket. The endpoint and
 * the keys come from the environment and ~/.aws (aws_config.ts), never
 * from the URL. Pure.
 */
import { UsageError } from "../../errors.ts";

export interface S3Destination {
  bucket: string;
  /** The key prefix, without slashes at either end; "" for the whole bucket. */
  prefix: string;
  /** The URL in its plain form, as messages and jobs show it. */
  location: string;
}

const HINT = "for example: s3://my-bucket/host1";

/** Whether `dest` names an S3 destination rather than a local folder. */
export function isS3Url(dest: string): boolean {
  return /^s3:\/\//i.test(dest);
}

/**
 * Parses an `s3://` URL.
 * @throws {UsageError} when it is not a valid one
 */
export function parseS3Url(url: string): S3Destination {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(url);
  if (!match) throw new UsageError(`not an S3 URL: ${url}`, HINT);
  const [, bucket, rawPrefix = ""] = match;
  if (bucket.includes("@") || bucket.includes(":")) {
    throw new UsageError(
      "the s3:// URL has a key or a host in it; tinybackup takes keys only from the environment or ~/.aws",
      "give s3://BUCKET/PREFIX, with the endpoint in AWS_ENDPOINT_URL and the keys in ~/.aws/credentials",
    );
  }
  // The rules every S3 store takes (AWS's: 3-63 lowercase letters, digits, dots and hyphens).
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes("..")) {
    throw new UsageError(
      `'${bucket}' is not a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens`,
      HINT,
    );
  }
  const prefix = rawPrefix.replace(/\/+$/, "");
  // deno-lint-ignore no-control-regex -- control characters are what it looks for
  if (/[\x00-\x1f\x7f]/.test(prefix) || /(^|\/)(\.\.?)?(\/|$)/.test(prefix) && prefix !== "") {
    throw new UsageError(
      `the prefix of ${url} has control characters, an empty part, '.' or '..' in it`,
      HINT,
    );
  }
  return { bucket, prefix, location: `s3://${bucket}${prefix === "" ? "" : `/${prefix}`}` };
}
