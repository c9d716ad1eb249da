/**
 * `ftp://` and `ftps://` destinations: `ftp://[USER@]HOST[:PORT]/PATH` is
 * the folder /PATH as the server shows it (its `pwd`; a server that keeps
 * users in their home shows that as /). `ftps://` is the same over
 * explicit TLS (AUTH TLS on the FTP port, 21), as rclone's and lftp's
 * `ftp` with TLS required; the password comes from ~/.netrc, never the
 * URL. Pure.
 */
import { UsageError } from "../../errors.ts";

export interface FtpDestination {
  host: string;
  port: number;
  /** The login; undefined when ~/.netrc is to name it. */
  user?: string;
  /** Whether the connection must be TLS (ftps://). */
  tls: boolean;
  /** The folder there, absolute, without a trailing slash ("/" for the top). */
  path: string;
  /** The URL in its plain form, as messages and jobs show it. */
  location: string;
}

const HINT = "for example: ftps://backup@ftp.example.com/backups (the password in ~/.netrc)";

/** Whether `dest` names an FTP destination rather than a local folder. */
export function isFtpUrl(dest: string): boolean {
  return /^ftps?:\/\//i.test(dest);
}

/**
 * Parses an `ftp://` or `ftps://` URL.
 * @throws {UsageError} when it is not a valid one
 */
export function parseFtpUrl(url: string): FtpDestination {
  const match = /^(ftps?):\/\/([^/]*)(\/.*)?$/i.exec(url);
  if (!match) throw new UsageError(`not an FTP URL: ${url}`, HINT);
  const [, scheme, authority, rawPath = "/"] = match;
  if (/^[^@]*:[^@]*@/.test(authority)) {
    throw new UsageError(
      `the ${scheme.toLowerCase()}:// URL has a password in it; tinybackup never takes one on the command line`,
      "remove it, and put the password in ~/.netrc (chmod 600): machine HOST login USER password PASSWORD",
    );
  }
  const at = authority.lastIndexOf("@");
  const user = at >= 0 ? decode(authority.slice(0, at), url) : undefined;
  const hostPort = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(
    authority.slice(at + 1),
  );
  // deno-lint-ignore no-control-regex -- control characters are what it looks for
  if (!hostPort || (user !== undefined && (user === "" || /[\s\x00-\x1f]/.test(user)))) {
    throw new UsageError(`the host of ${url} is not one FTP takes: [user@]host[:port]`, HINT);
  }
  const port = hostPort[2] === undefined ? 21 : Number(hostPort[2]);
  if (port < 1 || port > 65535) throw new UsageError(`the port of ${url} is not 1 to 65535`);
  const path = decode(rawPath, url).replace(/\/+$/, "") || "/";
  // deno-lint-ignore no-control-regex -- control characters are what it looks for
  if (/[\x00-\x1f\x7f]/.test(path) || /(^|\/)\.\.?(\/|$)/.test(path.slice(1))) {
    throw new UsageError(`the folder of ${url} has control characters, '.' or '..' in it`, HINT);
  }
  return {
    host: hostPort[1].replace(/^\[|\]$/g, ""),
    port,
    ...(user === undefined ? {} : { user }),
    tls: scheme.toLowerCase() === "ftps",
    path,
    location: `${scheme.toLowerCase()}://${authority}${rawPath.replace(/\/+$/, "")}`,
  };
}

function decode(text: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UsageError(`${url} has a bad %-escape`);
  }
}
