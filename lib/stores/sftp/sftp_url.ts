/**
 * `sftp://` destinations, read as curl and most tools read them:
 * `sftp://[USER@]HOST[:PORT]/PATH` is the absolute folder /PATH on HOST, and
 * `sftp://HOST/~/PATH` is PATH in the login's home. HOST may be an alias of
 * ~/.ssh/config. Pure.
 */
import { UsageError } from "../../errors.ts";
import { parseSshDestination, type SshHost } from "../../ssh/ssh_host.ts";

export interface SftpDestination {
  /** Where ssh connects (without a config file: that comes from --ssh-config). */
  host: Omit<SshHost, "config">;
  /** The folder there: absolute, or `~/...` in the login's home. */
  path: string;
  /** The URL in its plain form, as messages and jobs show it. */
  location: string;
}

/** Whether `dest` names an SFTP destination rather than a local folder. */
export function isSftpUrl(dest: string): boolean {
  return /^sftp:\/\//i.test(dest);
}

/**
 * Parses an `sftp://` URL.
 * @throws {UsageError} when it is not a valid one
 */
export function parseSftpUrl(url: string): SftpDestination {
  const match = /^sftp:\/\/([^/]*)(\/.*)?$/i.exec(url);
  const hint = "for example: sftp://backup@nas.local/srv/backups, or sftp://nas/~/backups";
  if (!match) throw new UsageError(`not an SFTP URL: ${url}`, hint);
  const [, authority, rawPath = ""] = match;
  if (/^[^@]*:[^@]*@/.test(authority)) {
    throw new UsageError(
      "the sftp:// URL has a password in it; tinybackup never takes one on the command line",
      "remove it, and log in with a key (ssh-copy-id, or your ~/.ssh/config)",
    );
  }
  const host = parseSshDestination(decode(authority, url));
  if (!host || authority.includes(";")) {
    throw new UsageError(`the host of ${url} is not one ssh takes: [user@]host[:port]`, hint);
  }
  const decoded = decode(rawPath, url).replace(/\/+$/, "");
  if (decoded === "" || decoded === "/~") {
    throw new UsageError(`${url} names no folder`, hint);
  }
  // deno-lint-ignore no-control-regex -- control characters are what it looks for
  if (/[\x00-\x1f]/.test(decoded) || /(^|\/)\.\.?(\/|$)/.test(decoded.slice(1))) {
    throw new UsageError(`the folder of ${url} has control characters, '.' or '..' in it`, hint);
  }
  const path = decoded.startsWith("/~/") ? decoded.slice(1) : decoded;
  return { host, path, location: `sftp://${authority}${rawPath.replace(/\/+$/, "")}` };
}

function decode(text: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UsageError(`${url} has a bad %-escape`);
  }
}
