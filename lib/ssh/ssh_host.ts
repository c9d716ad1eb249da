/**
 * Another host, reached through the system `ssh`, so that ~/.ssh/config,
 * keys, the agent and known_hosts apply as they do for the user. Never
 * interactive (BatchMode), never trusting an unknown or changed host key,
 * with keep-alives and a connect timeout so a dead network fails the run
 * instead of hanging it. Pure: the command lines and what ssh's messages
 * mean; running them is program_host.ts.
 */
import { UsageError } from "../errors.ts";
import { quoteForSh } from "../schedule/quote.ts";

/** What --ssh (and --ssh-config) name, as a job keeps it. */
export interface SshHost {
  /** `host`, `user@host` or an alias of ~/.ssh/config, without the port. */
  destination: string;
  /** The port, when given as `host:port`; else ssh's own (the config's, or 22). */
  port?: number;
  /** An ssh config file to use instead of ~/.ssh/config (`ssh -F`), absolute. */
  config?: string;
}

/** Options every connection gets: the reasons are at the top of this file. */
const SSH_OPTIONS = [
  "-T",
  "-o",
  "BatchMode=yes",
  "-o",
  "StrictHostKeyChecking=yes",
  "-o",
  "ConnectTimeout=10",
  "-o",
  "ServerAliveInterval=15",
  "-o",
  "ServerAliveCountMax=4",
  // Only errors on stderr: it is quoted to the user, and warnings there would look like the dump's.
  "-o",
  "LogLevel=ERROR",
];

/**
 * Parses `--ssh`: `[user@]host[:port]`, with an IPv6 address in brackets
 * (`[::1]:2222`). Undefined when it is not such a destination.
 */
export function parseSshDestination(text: string): Omit<SshHost, "config"> | undefined {
  const match = /^((?:[^@\s]+@)?)(\[[0-9A-Fa-f:.]+\]|[^:\[\]@\s]+)(?::(\d{1,5}))?$/.exec(text);
  // deno-lint-ignore no-control-regex -- control characters are what it looks for
  if (!match || text.startsWith("-") || /[\x00-\x1f\x7f]/.test(text)) return undefined;
  const [, user, host, portText] = match;
  const destination = `${user}${host.replace(/^\[(.*)\]$/, "$1")}`;
  if (portText === undefined) return { destination };
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return { destination, port };
}

/** Whether two settings reach the same host the same way (both absent: this one). */
export function sameHost(a: SshHost | undefined, b: SshHost | undefined): boolean {
  return a?.destination === b?.destination && a?.port === b?.port && a?.config === b?.config;
}

/** The host in words, for messages: `user@host:port`, as it was given. */
export function describeHost(host: SshHost): string {
  const shown = host.destination.includes(":") ? `[${host.destination}]` : host.destination;
  return host.port === undefined ? shown : `${shown}:${host.port}`;
}

/**
 * The local command line that runs `argv` on the host, with `env` set
 * there: every word quoted for the remote shell, which reads the command
 * line ssh sends as one string.
 */
export function sshArgv(
  host: SshHost,
  argv: readonly string[],
  env: Record<string, string> = {},
): string[] {
  return [
    "ssh",
    ...SSH_OPTIONS,
    ...(host.config === undefined ? [] : ["-F", host.config]),
    ...(host.port === undefined ? [] : ["-p", String(host.port)]),
    "--",
    host.destination,
    remoteCommandLine(argv, env),
  ];
}

/** The local command line that starts the host's `subsystem` (sftp), as `sftp` and restic do. */
export function sshSubsystemArgv(host: SshHost, subsystem: string): string[] {
  return [
    "ssh",
    ...SSH_OPTIONS,
    ...(host.config === undefined ? [] : ["-F", host.config]),
    ...(host.port === undefined ? [] : ["-p", String(host.port)]),
    "-s",
    "--",
    host.destination,
    subsystem,
  ];
}

/** `env 'K=V' 'prog' 'arg'...`, or the words alone when there is nothing to set. */
export function remoteCommandLine(argv: readonly string[], env: Record<string, string>): string {
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  const words = assignments.length === 0 ? argv : ["env", ...assignments, ...argv];
  return words.map(quoteForSh).join(" ");
}

/**
 * Set for every ssh, which runs without a terminal (detached): it may not
 * turn to a graphical askpass program either, even for a jump host's login.
 */
export const SSH_ENVIRONMENT = { SSH_ASKPASS_REQUIRE: "never" };

/** ssh exits with 255 when it, not the remote command, failed. */
export const SSH_FAILED = 255;

/** Why ssh could not run the command, from what it said. */
export type SshProblem = "host key" | "login refused" | "unreachable" | "lost";

export function sshProblemOf(stderr: string): SshProblem | undefined {
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) {
    return "host key";
  }
  if (/Permission denied|Too many authentication failures/.test(stderr)) return "login refused";
  if (
    /Could not resolve hostname|Connection refused|Connection timed out|No route to host|Network is unreachable|Operation timed out/
      .test(stderr)
  ) {
    return "unreachable";
  }
  if (
    /closed by remote host|Connection closed|Connection reset|Broken pipe|Timeout, server .* not responding/
      .test(stderr)
  ) {
    return "lost";
  }
  return undefined;
}

/** What to do about each problem. */
export function sshHint(problem: SshProblem | undefined, host: SshHost): string {
  const ssh = sshCommandText(host);
  switch (problem) {
    case "host key":
      return `check the host's key, then add it: connect once with '${ssh}' and compare the fingerprint; tinybackup never accepts an unknown or changed key`;
    case "login refused":
      return `ssh must log in without asking: add your key to the host's authorized_keys, or load it into ssh-agent (test with: ${
        sshCommandText(host, true)
      } true)`;
    case "unreachable":
      return "check the host name, the port and the network";
    case "lost":
      return "the connection was lost: check the network and the host, then run again";
    default:
      return `try: ${sshCommandText(host, true)} true`;
  }
}

/** How a user connects by hand as tinybackup does: `ssh [-o BatchMode=yes] [-F FILE] [-p PORT] DESTINATION`. */
export function sshCommandText(host: SshHost, batch = false): string {
  return [
    "ssh",
    ...(batch ? ["-o", "BatchMode=yes"] : []),
    ...(host.config === undefined ? [] : ["-F", quoteForSh(host.config)]),
    ...(host.port === undefined ? [] : ["-p", String(host.port)]),
    host.destination,
  ].join(" ");
}

/** ssh's failure as a UsageError that says what went wrong and what to do. */
export function sshError(host: SshHost, said: string): UsageError {
  const first = said.split("\n").map((line) => line.trim()).filter((line) => line !== "")
    .join("; ");
  const problem = sshProblemOf(said);
  const what = problem === "host key"
    ? "its host key is unknown or has changed"
    : problem === "login refused"
    ? "it refused the login"
    : problem === "unreachable"
    ? "it cannot be reached"
    : problem === "lost"
    ? "the connection was lost"
    : "ssh failed";
  return new UsageError(
    `cannot use ${describeHost(host)} over ssh: ${what}${first ? ` (ssh said: ${first})` : ""}`,
    sshHint(problem, host),
  );
}
