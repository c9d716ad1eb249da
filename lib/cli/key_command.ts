/**
 * `tinybackup key generate [--output FILE]`: a new age identity, in the
 * form age-keygen writes, so either tool reads the other's keys. The
 * secret goes to FILE (made new, private from the first instant; never
 * over an existing file) or stdout; the public key, which is what backups
 * are encrypted to, goes to stderr as age-keygen prints it.
 */
import { generateKeyPair } from "../age/keys.ts";
import { UsageError } from "../errors.ts";
import { parseKeyArgs } from "./args.ts";
import { helpFor } from "./help.ts";
import { Messages, printHelp, printPath } from "./output.ts";

export async function keyCommand(argv: string[]): Promise<void> {
  const args = parseKeyArgs(argv);
  if (args.help) return printHelp(helpFor("key"));
  const { identity, recipient } = generateKeyPair();
  const text = `# created: ${new Date().toISOString().slice(0, 19)}Z\n` +
    `# public key: ${recipient}\n${identity}\n`;
  const messages = new Messages();
  if (args.output !== undefined) {
    try {
      await Deno.writeTextFile(args.output, text, { createNew: true, mode: 0o600 });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) {
        throw new UsageError(
          `${args.output} exists already; tinybackup never overwrites a key file`,
          "a key replaced is every backup made for it lost: choose a new file name",
        );
      }
      if (error instanceof Deno.errors.NotFound) {
        throw new UsageError(`the folder of ${args.output} does not exist`);
      }
      throw error;
    }
  } else {
    await makeStdoutPrivate(messages);
    await Deno.stdout.write(new TextEncoder().encode(text));
  }
  messages.note(`Public key: ${recipient}`);
  if (args.output !== undefined) printPath(args.output);
}

/**
 * `key generate > key.txt` makes the file with the shell's umask, usually
 * readable by all, and restore refuses such an identity file: make it
 * private before the secret is in it, or say how.
 */
async function makeStdoutPrivate(messages: Messages): Promise<void> {
  if (Deno.stdout.isTerminal()) {
    messages.warning("the secret key is printed on the terminal; redirect it to a file instead");
    return;
  }
  const info = await Deno.stat("/dev/stdout").catch(() => undefined);
  if (!info?.isFile || info.mode === null || (info.mode & 0o077) === 0) return;
  try {
    const path = await Deno.realPath("/dev/stdout");
    const named = await Deno.stat(path);
    if (named.dev !== info.dev || named.ino !== info.ino) throw new Error("another file");
    await Deno.chmod(path, 0o600);
  } catch {
    messages.warning("others can read the file the key is written to; make it private: chmod 600");
  }
}
