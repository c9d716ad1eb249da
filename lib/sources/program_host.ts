/**
 * Where a source's programs run: here, or on another host through ssh
 * (--ssh). Sources say what to run; this says how to start it, so that a
 * dump, a query and a "is it installed?" check run in the same place.
 */
import {
  describeHost,
  SSH_ENVIRONMENT,
  SSH_FAILED,
  sshArgv,
  sshError,
  type SshHost,
} from "../ssh/ssh_host.ts";

/** The local command line that runs `argv` with `env` set, where the host says. */
export function launchArgv(
  host: SshHost | undefined,
  argv: readonly string[],
  env: Record<string, string> = {},
): { argv: string[]; env?: Record<string, string> } {
  if (host === undefined) return { argv: [...argv], env };
  // The variables are set on the host, in the remote command line; ssh's own environment is ours.
  return { argv: sshArgv(host, argv, env), env: SSH_ENVIRONMENT };
}

export interface ProgramOutput {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/**
 * Runs a short program to its end, where the host says, with standard
 * input closed, and collects what it printed.
 * @throws {UsageError} when ssh cannot reach or log in to the host
 */
export async function runProgram(
  host: SshHost | undefined,
  argv: readonly string[],
  env: Record<string, string> = {},
): Promise<ProgramOutput> {
  const launch = launchArgv(host, argv, env);
  const { code, stdout, stderr } = await new Deno.Command(launch.argv[0], {
    args: launch.argv.slice(1),
    env: launch.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    // No terminal: not even an ssh started for a jump host can stop to ask for anything.
    detached: true,
  }).output();
  const said = new TextDecoder().decode(stderr).trim();
  if (host !== undefined && code === SSH_FAILED) throw sshError(host, said);
  return { code, stdout, stderr: said };
}

/** Whether `sh` finds `program` where the host says (on PATH, or at the path given). */
export async function shellFinds(program: string, host?: SshHost): Promise<boolean> {
  const { code } = await runProgram(host, ["/bin/sh", "-c", 'command -v -- "$1"', "sh", program]);
  return code === 0;
}

/** " on HOST" for messages about what runs there; nothing for here. */
export function onHost(host: SshHost | undefined): string {
  return host === undefined ? "" : ` on ${describeHost(host)}`;
}
