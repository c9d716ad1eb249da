/**
 * Names that attack the terminal (issue 9): ESC sequences that clear the
 * screen or retitle the window, BEL, a carriage return, a newline followed by
 * a forged `list` line, a right-to-left override, a C1 control. Human output
 * shows them escaped, one line per backup; --json and a path captured by a
 * script keep them exact.
 */
import assert from "node:assert/strict";
import { needs, programs } from "../_requires.ts";
import { tempDir, textBytes, tinybackup, tinybackupOnTerminal } from "./_cli.ts";

/** Each hostile file name, and how human output spells it. */
const NAMES: [name: string, shown: string][] = [
  ["\u001b[2J\u001b]0;pwned\u0007clear.db", "\\x1b[2J\\x1b]0;pwned\\x07clear.db"],
  ["bell\u0007.db", "bell\\x07.db"],
  ["cr\rover.db", "cr\\rover.db"],
  [
    "x\n2030-01-01T00:00:00Z         1 B  gzip  fake",
    "x\\n2030-01-01T00:00:00Z         1 B  gzip  fake",
  ],
  ["\u202Egpj.exe", "\\u{202e}gpj.exe"],
  ["csi\u009b2J.db", "csi\\x9b2J.db"],
  ["back\\slash.db", "back\\\\slash.db"],
];

/** A character that a terminal obeys or hides instead of showing. */
const RAW_CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** The lines of `text`, each checked to hold no raw control character. */
function safeLines(text: string): string[] {
  assert.ok(text === "" || text.endsWith("\n"), JSON.stringify(text));
  const lines = text === "" ? [] : text.slice(0, -1).split("\n");
  for (const line of lines) assert.doesNotMatch(line, RAW_CONTROL, JSON.stringify(line));
  return lines;
}

/** Backs up every hostile name into `dest`, checking the exact name in --json. */
async function backUpAll(dir: string, dest: string): Promise<void> {
  await Deno.mkdir(`${dir}/src`);
  for (const [i, [name]] of NAMES.entries()) {
    await Deno.writeFile(`${dir}/src/${name}`, textBytes(10, i));
    const r = await tinybackup(["--file", `${dir}/src/${name}`, "--dest", dest, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const made = JSON.parse(r.stdout);
    assert.equal(made.name, name);
    assert.equal(made.source, `${dir}/src/${name}`);
  }
}

Deno.test("list, verify and prune --dry-run show each hostile name escaped, one line per backup", async () => {
  await using dir = await tempDir();
  const dest = `${dir.path}/b`;
  await backUpAll(dir.path, dest);

  const list = await tinybackup(["list", "--dest", dest]);
  assert.equal(list.code, 0, list.stderr);
  const listed = safeLines(list.stdout);
  assert.equal(listed.length, NAMES.length, list.stdout);
  for (const [, shown] of NAMES) {
    const mine = listed.filter((line) => line.includes(`  gzip  ${dest}/${shown}.`));
    assert.equal(mine.length, 1, `${shown} in:\n${list.stdout}`);
  }
  assert.ok(listed.every((line) => /^\d{4}-\d\d-\d\dT[\d:]{8}Z +\d+ B +gzip +\//.test(line)));

  // JSON's own \u escapes keep the names exact and the terminal safe.
  const listJson = await tinybackup(["list", "--dest", dest, "--json"]);
  safeLines(listJson.stdout);
  const json = JSON.parse(listJson.stdout);
  assert.deepEqual(json.map((b: { name: string }) => b.name).sort(), NAMES.map(([n]) => n).sort());

  const verify = await tinybackup(["verify", "--dest", dest]);
  assert.equal(verify.code, 0, verify.stderr);
  const verified = safeLines(verify.stdout);
  assert.equal(verified.length, NAMES.length, verify.stdout);
  for (const [, shown] of NAMES) {
    assert.equal(verified.filter((line) => line.startsWith(`ok   ${dest}/${shown}.`)).length, 1);
  }

  // A second version of each, so that prune --keep 1 has the first to remove.
  for (const [i, [name, shown]] of NAMES.entries()) {
    await Deno.writeFile(`${dir.path}/src/${name}`, textBytes(10, i + NAMES.length));
    assert.equal((await tinybackup(["--file", `${dir.path}/src/${name}`, "--dest", dest])).code, 0);
    const prune = await tinybackup([
      "prune",
      "--dest",
      dest,
      "--name",
      name,
      "--keep",
      "1",
      "--dry-run",
    ]);
    assert.equal(prune.code, 0, prune.stderr);
    const pruned = safeLines(prune.stdout);
    assert.equal(pruned.length, 1, prune.stdout);
    assert.ok(pruned[0].startsWith(`${dest}/${shown}.`), pruned[0]);
  }
});

Deno.test("error lines, hints and notes escape the names and values they quote", async () => {
  await using dir = await tempDir();
  const cases: [args: string[], code: number, stderr: string][] = [
    [
      ["list", "--dest", `${dir.path}/\u001b[2J\u001b]0;pwned\u0007`],
      2,
      `tinybackup: error: destination not found: ${dir.path}/\\x1b[2J\\x1b]0;pwned\\x07\n`,
    ],
    [
      ["--file", `${dir.path}/gone\n2030-01-01T00:00:00Z`, "--dest", `${dir.path}/b`],
      2,
      `tinybackup: error: file not found: ${dir.path}/gone\\n2030-01-01T00:00:00Z\n`,
    ],
    [
      ["list", "--\u202Eedis"],
      2,
      "tinybackup: error: unknown option '--\\u{202e}edis'\n" +
      "tinybackup: hint: see 'tinybackup --help'\n",
    ],
    [
      ["log", "\u001b]0;pwned\u0007"],
      2,
      "tinybackup: error: '\\x1b]0;pwned\\x07' is not a job id\n" +
      "tinybackup: hint: job ids are 8 hex digits; see 'tinybackup jobs'\n",
    ],
  ];
  for (const [args, code, stderr] of cases) {
    const r = await tinybackup(args);
    assert.equal(r.code, code, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, stderr);
  }

  const empty = `${dir.path}/empty\r\u0007`;
  await Deno.mkdir(empty);
  const none = await tinybackup(["list", "--dest", empty]);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stderr, `tinybackup: no backups found in ${dir.path}/empty\\r\\x07\n`);
});

const withScript = await needs(
  "cli/terminal_output_test.ts: the terminal test",
  programs("script"),
);

withScript.test("the path a backup or restore prints is exact in a pipe and escaped on a terminal", async () => {
  await using dir = await tempDir();
  const name = "\u001b[2Jx\n2030-01-01T00:00:00Z         1 B  gzip  fake";
  const file = `${dir.path}/${name}`;
  await Deno.writeFile(file, textBytes(10));
  const escape = (path: string) => path.replaceAll("\u001b", "\\x1b").replaceAll("\n", "\\n");

  const piped = await tinybackup(["--file", file, "--dest", `${dir.path}/b`]);
  assert.equal(piped.code, 0, piped.stderr);
  const path = piped.stdout.slice(0, -1);
  assert.ok(path.startsWith(`${dir.path}/b/${name}.`), path);
  assert.ok((await Deno.stat(path)).isFile, "the captured path is the backup");
  const shown = await tinybackupOnTerminal(["-q", "--file", file, "--dest", `${dir.path}/b`]);
  assert.equal(shown.code, 0, shown.output);
  assert.equal(shown.output, `${escape(path)}\n`);

  const into = `${dir.path}/out`;
  await Deno.mkdir(into);
  const restored = await tinybackup(["restore", path, "--to", `${into}/`]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(restored.stdout, `${into}/${name}\n`);
  const again = await tinybackupOnTerminal(["restore", path, "--to", `${into}/`, "--force"]);
  assert.equal(again.code, 0, again.output);
  assert.equal(again.output, `${escape(`${into}/${name}`)}\n`);
});
