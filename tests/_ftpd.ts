/**
 * A real FTP server for tests: vsftpd on 127.0.0.1 and a free high port,
 * taking plain FTP and explicit TLS (a throwaway self-signed certificate),
 * for one local user, `tbftp`, made for the tests with a fresh password
 * each time. Its folder `data` belongs to that user. `env` points NETRC at
 * a private netrc with the login and SSL_CERT_FILE at the certificate, as
 * a user would set them. Stopped and removed by `await using`.
 */
import { join } from "node:path";
import { programs, type Requirement, requirement } from "./_requires.ts";

const VSFTPD = "/usr/sbin/vsftpd";
export const FTP_USER = "tbftp";

/** What the FTP tests need: vsftpd, openssl, and root (to add the user and run the server). */
export const FTPD_REQUIREMENT: Requirement = requirement(async () => {
  if (!(await Deno.stat(VSFTPD).catch(() => undefined))) {
    return `${VSFTPD} not found (Debian: apt-get install vsftpd)`;
  }
  const unmet = await programs("openssl", "useradd", "chpasswd").unmet();
  if (unmet) return unmet;
  if (Deno.uid() !== 0) return `vsftpd and a test user need root (uid ${Deno.uid()})`;
  return undefined;
});

export interface FtpServer extends AsyncDisposable {
  port: number;
  /** The user's folder here: what the server writes, read back directly. */
  data: string;
  /** NETRC and SSL_CERT_FILE for tinybackup. */
  env: Record<string, string>;
  netrc: string;
}

async function run(program: string, args: string[], stdin?: string): Promise<void> {
  const child = new Deno.Command(program, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(`${program} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** The test user, made once; its password is set anew by each server. */
async function ensureUser(): Promise<void> {
  const found = await new Deno.Command("id", { args: [FTP_USER], stdout: "null", stderr: "null" })
    .output();
  if (!found.success) await run("useradd", ["-M", "-d", "/", "-s", "/bin/sh", FTP_USER]);
}

/**
 * Starts a new server; about a second.
 * @param requireSslReuse vsftpd's require_ssl_reuse (its default is YES; tinybackup needs NO)
 */
export async function startFtpd(requireSslReuse = false): Promise<FtpServer> {
  await ensureUser();
  const dir = await Deno.makeTempDir({ prefix: "tinybackup-ftpd-" });
  await Deno.chmod(dir, 0o755); // the user reaches its folder through it
  const file = (name: string) => join(dir, name);
  const data = file("data");
  await Deno.mkdir(data, { mode: 0o700 });
  await run("chown", [FTP_USER, data]);
  const password = `pw-${crypto.randomUUID()}`;
  await run("chpasswd", [], `${FTP_USER}:${password}\n`);
  await run("openssl", [
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"],
    ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    ...["-keyout", file("key.pem"), "-out", file("cert.pem")],
  ]);
  await Deno.writeTextFile(
    file("netrc"),
    `machine 127.0.0.1 login ${FTP_USER} password ${password}\n`,
    { mode: 0o600 },
  );
  await Deno.mkdir("/var/run/vsftpd/empty", { recursive: true });
  for (let attempt = 0;; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    await Deno.writeTextFile(
      file("vsftpd.conf"),
      [
        "listen=YES",
        "listen_ipv6=NO",
        "listen_address=127.0.0.1",
        `listen_port=${port}`,
        "background=NO",
        "anonymous_enable=NO",
        "local_enable=YES",
        "write_enable=YES",
        "local_umask=077",
        "pasv_enable=YES",
        `pasv_min_port=${port + 1}`,
        `pasv_max_port=${port + 40}`,
        "pasv_address=127.0.0.1",
        "seccomp_sandbox=NO",
        "userlist_enable=NO",
        "pam_service_name=vsftpd",
        "xferlog_enable=NO",
        "ssl_enable=YES",
        "allow_anon_ssl=NO",
        "force_local_logins_ssl=NO",
        "force_local_data_ssl=NO",
        `rsa_cert_file=${file("cert.pem")}`,
        `rsa_private_key_file=${file("key.pem")}`,
        `require_ssl_reuse=${requireSslReuse ? "YES" : "NO"}`,
        "",
      ].join("\n"),
    );
    const server = new Deno.Command(VSFTPD, {
      args: [file("vsftpd.conf")],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stop = async () => {
      try {
        server.kill("SIGTERM");
      } catch {
        // It ended already.
      }
      await server.status;
    };
    if (await greets(port, server)) {
      return {
        port,
        data,
        netrc: file("netrc"),
        env: { NETRC: file("netrc"), SSL_CERT_FILE: file("cert.pem") },
        async [Symbol.asyncDispose]() {
          await stop();
          await Deno.remove(dir, { recursive: true });
        },
      };
    }
    await stop();
    if (attempt === 9) {
      await Deno.remove(dir, { recursive: true });
      throw new Error("vsftpd did not start");
    }
  }
}

/** Waits until the server greets a connection (220); false if it ended first (its port was taken). */
async function greets(port: number, server: Deno.ChildProcess): Promise<boolean> {
  let ended = false;
  server.status.then(() => ended = true);
  for (let i = 0; i < 200 && !ended; i++) {
    try {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port });
      const buffer = new Uint8Array(64);
      const n = await connection.read(buffer);
      connection.close();
      if (n && new TextDecoder().decode(buffer.subarray(0, n)).startsWith("220")) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
