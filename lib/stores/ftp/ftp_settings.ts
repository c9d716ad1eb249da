/**
 * What an FTP destination needs from this machine: the login from ~/.netrc
 * (or the file NETRC names), which must be private as ftp(1) requires,
 * and certificates to trust beyond the system's (SSL_CERT_FILE, as OpenSSL,
 * curl and git read it).
 */
import { join } from "node:path";
import { UsageError } from "../../errors.ts";
import type { FtpLogin } from "./ftp_store.ts";
import type { FtpDestination } from "./ftp_url.ts";
import { netrcLogin, parseNetrc } from "./netrc.ts";

export async function ftpSettingsHere(
  env: Record<string, string | undefined>,
  destination: FtpDestination,
): Promise<{ login: FtpLogin; ca?: string }> {
  const path = env.NETRC || (env.HOME ? join(env.HOME, ".netrc") : undefined);
  const where = `${destination.host}${destination.user ? ` (login ${destination.user})` : ""}`;
  const hint = `add 'machine ${destination.host} login ${
    destination.user ?? "USER"
  } password PASSWORD' to ~/.netrc, then chmod 600 ~/.netrc`;
  if (path === undefined) throw new UsageError(`no password for ${where}: HOME is not set`, hint);
  let text: string;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`no password for ${where}: there is no ${path}`, hint);
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`cannot read ${path}: permission denied`);
    }
    throw error;
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new UsageError(
      `${path} can be read or written by others (mode 0${
        (info.mode & 0o777).toString(8)
      }); it holds passwords`,
      `chmod 600 ${path}`,
    );
  }
  const login = netrcLogin(parseNetrc(text), destination.host, destination.user);
  if (!login) throw new UsageError(`no password for ${where} in ${path}`, hint);
  const caFile = env.SSL_CERT_FILE;
  if (!destination.tls || !caFile) return { login };
  try {
    return { login, ca: await Deno.readTextFile(caFile) };
  } catch {
    throw new UsageError(
      `cannot read SSL_CERT_FILE ${caFile}`,
      "point it at a PEM file, or unset it",
    );
  }
}
