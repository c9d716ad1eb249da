/**
 * A real OpenSSH server for tests: sshd on 127.0.0.1 and a free high port,
 * with a throwaway host key and one authorized client key, all in a
 * temporary folder, and an ssh config file (`config`) that reaches it as
 * the host alias `tbtest` (and as 127.0.0.1 with the port), trusting only
 * that host key. ssh reads ~/.ssh from the user's passwd entry, not $HOME,
 * so tests pass the file with --ssh-config. Stopped and removed by
 * `await using`.
 */
import { join } from "node:path";
import { type Requirement, requirement } from "./_requires.ts";

/** The alias of the server in `config`. */
export const SSH_ALIAS = "tbtest";

const SSHD = "/usr/sbin/sshd";

/** What the ssh tests need: sshd, ssh and ssh-keygen, and root (sshd's privilege separation). */
export const SSHD_REQUIREMENT: Requirement = requirement(async () => {
  if (!(await Deno.stat(SSHD).catch(() => undefined))) {
    return `${SSHD} not found (Debian: apt-get install openssh-server)`;
  }
  for (const program of ["ssh", "ssh-keygen"]) {
    const found = await new Deno.Command("/bin/sh", {
      args: ["-c", 'command -v -- "$1"', "sh", program],
      stdout: "null",
    }).output();
    if (!found.success) return `${program} not found (Debian: apt-get install openssh-client)`;
  }
  if (Deno.uid() !== 0) return `sshd needs root to log users in (uid ${Deno.uid()})`;
  return undefined;
});

export interface SshServer extends AsyncDisposable {
  port: number;
  /** The ssh config file that reaches the server, as `tbtest` or `127.0.0.1`. */
  config: string;
  /** The known_hosts file `config` names: holds the server's key. */
  knownHosts: string;
  /** A second key pair the server does not accept. */
  strangerKey: string;
}

async function keygen(path: string): Promise<void> {
  const out = await new Deno.Command("ssh-keygen", {
    args: ["-q", "-t", "ed25519", "-N", "", "-f", path],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`ssh-keygen failed: ${new TextDecoder().decode(out.stderr)}`);
}

/**
 * Starts a new server; well under a second.
 * @param env variables every session gets (sshd's SetEnv), as a host's own configuration would set
 */
export async function startSshd(env: Record<string, string> = {}): Promise<SshServer> {
  const dir = await Deno.makeTempDir({ prefix: "tinybackup-sshd-" });
  const file = (name: string) => join(dir, name);
  await keygen(file("host_key"));
  await keygen(file("client_key"));
  await keygen(file("stranger_key"));
  await Deno.copyFile(file("client_key.pub"), file("authorized_keys"));
  await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 }); // its privilege separation folder
  const user = new TextDecoder().decode(
    (await new Deno.Command("id", { args: ["-un"], stdout: "piped" }).output()).stdout,
  ).trim();
  for (let attempt = 0;; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    await Deno.writeTextFile(
      file("sshd_config"),
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${file("host_key")}`,
        `AuthorizedKeysFile ${file("authorized_keys")}`,
        "StrictModes no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PermitRootLogin prohibit-password",
        "Subsystem sftp internal-sftp",
        `PidFile ${file("sshd.pid")}`,
        ...Object.entries(env).map(([name, value]) => `SetEnv ${name}=${value}`),
        "",
      ].join("\n"),
    );
    const hostKey = (await Deno.readTextFile(file("host_key.pub"))).split(" ").slice(0, 2)
      .join(" ");
    await Deno.writeTextFile(file("known_hosts"), `[127.0.0.1]:${port} ${hostKey}\n`);
    await Deno.writeTextFile(
      file("config"),
      [
        `Host ${SSH_ALIAS}`,
        "  HostName 127.0.0.1",
        `  Port ${port}`,
        "Host *",
        `  User ${user}`,
        `  IdentityFile ${file("client_key")}`,
        "  IdentitiesOnly yes",
        `  UserKnownHostsFile ${file("known_hosts")}`,
        "  GlobalKnownHostsFile /dev/null",
        "",
      ].join("\n"),
    );
    const sshd = new Deno.Command(SSHD, {
      args: ["-D", "-e", "-f", file("sshd_config")],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // sshd says where it listens once it does; an early exit means the port was taken.
    const said = await listening(sshd.stderr);
    if (said.ready) {
      return {
        port,
        config: file("config"),
        knownHosts: file("known_hosts"),
        strangerKey: file("stranger_key"),
        async [Symbol.asyncDispose]() {
          try {
            sshd.kill("SIGTERM");
          } catch {
            // It ended already.
          }
          await sshd.status;
          await Deno.remove(dir, { recursive: true });
        },
      };
    }
    await sshd.status;
    if (attempt === 9) {
      await Deno.remove(dir, { recursive: true });
      throw new Error(`sshd did not start: ${said.text}`);
    }
  }
}

/** Reads sshd's log until it says it listens (then keeps draining it) or ends. */
async function listening(
  stderr: ReadableStream<Uint8Array>,
): Promise<{ ready: boolean; text: string }> {
  const reader = stderr.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (true) {
    const { done, value } = await reader.read();
    if (done) return { ready: false, text };
    text += decoder.decode(value, { stream: true });
    if (/Server listening on 127\.0\.0\.1 port/.test(text)) {
      (async () => {
        while (!(await reader.read()).done);
      })().catch(() => {});
      return { ready: true, text };
    }
  }
}
