/** Destinations on another host: which URLs name one, and how a name goes into such a URL. */
import { isFtpUrl } from "./ftp/ftp_url.ts";
import { isS3Url } from "./s3/s3_url.ts";
import { isSftpUrl } from "./sftp/sftp_url.ts";

/** Whether `dest` is an `sftp://`, `s3://`, `ftp://` or `ftps://` URL, not a local folder. */
export function isRemoteUrl(dest: string): boolean {
  return isSftpUrl(dest) || isS3Url(dest) || isFtpUrl(dest);
}

/**
 * `name` (parts split by /) %-escaped as a URL's path is, keeping what
 * RFC 3986 lets a path segment hold as it is (`!$&'()*+,;=:@`).
 */
export function escapeUrlPath(name: string): string {
  return name.split("/").map((part) =>
    encodeURIComponent(part).replace(/%(2[146789ABC]|3[ABD]|40)/g, (e) => decodeURIComponent(e))
  ).join("/");
}
