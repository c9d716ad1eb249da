/** Whether a destination is on another host: an `sftp://` or `s3://` URL, not a local folder. */
import { isS3Url } from "./s3/s3_url.ts";
import { isSftpUrl } from "./sftp/sftp_url.ts";

export function isRemoteUrl(dest: string): boolean {
  return isSftpUrl(dest) || isS3Url(dest);
}
