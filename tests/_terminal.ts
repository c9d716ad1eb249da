/**
 * Runs a shell command with a terminal, through script(1), and types `typed`
 * into it: age reads a passphrase from a terminal only. Throws if it fails.
 */
export async function typeOnTerminal(command: string, typed: string): Promise<void> {
  const child = new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  // What is typed before the program asks is kept by the terminal.
  await writer.write(new TextEncoder().encode(typed));
  const { code } = await child.output().finally(() => writer.close().catch(() => {}));
  if (code !== 0) throw new Error(`${command} failed on a terminal (exit ${code})`);
}
