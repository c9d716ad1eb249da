import assert from "node:assert/strict";
import { quoteForSh } from "../../lib/schedule/quote.ts";

/** Words a path or name may hold that sh would otherwise split, expand or run. */
const HOSTILE_WORDS = [
  "",
  "plain",
  "two words",
  "  leading and trailing  ",
  "tab\there",
  "it's",
  "'",
  "''",
  "'\\''",
  "'; touch single-quote-escape; '",
  'say "hi"',
  '"',
  "$(touch dollar-paren)",
  "`touch backtick`",
  "$HOME",
  "${HOME}",
  "$1 $@ $* $# $? $$ $!",
  "line one\nline two",
  "\n",
  "ends with newline\n",
  "carriage\rreturn",
  "back\\slash",
  "\\",
  "\\n\\t\\0",
  "*",
  "*.db ?[a-z]",
  "~",
  "~root/x",
  "-n",
  "--",
  "-rf --help",
  "; touch semicolon",
  "| touch pipe",
  "&& touch and",
  "& touch background",
  "> redirected",
  "< /etc/passwd",
  "a#b #comment",
  "!",
  "(subshell)",
  "{brace,expansion}",
  "日本語のメモ.txt",
  "emoji 😀 backup",
  "%s %d %%",
  "\x01\x1b[31m control",
];

/** Runs `script` with sh in an empty folder; returns stdout and what the folder holds after. */
async function sh(script: string): Promise<{ code: number; stdout: string; left: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "tinybackup-quote-" });
  try {
    const { code, stdout } = await new Deno.Command("sh", {
      args: ["-c", script],
      cwd: dir,
      stdout: "piped",
      stderr: "null",
    }).output();
    const left: string[] = [];
    for await (const entry of Deno.readDir(dir)) left.push(entry.name);
    return { code, stdout: new TextDecoder("utf-8", { fatal: true }).decode(stdout), left };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("quoteForSh wraps a word in single quotes", () => {
  assert.equal(quoteForSh("plain"), "'plain'");
  assert.equal(quoteForSh("two words"), "'two words'");
  assert.equal(quoteForSh(""), "''");
});

Deno.test("quoteForSh closes, escapes and reopens for a single quote", () => {
  assert.equal(quoteForSh("it's"), "'it'\\''s'");
  assert.equal(quoteForSh("'"), "''\\'''");
});

Deno.test("quoteForSh words reach sh as exactly one word, byte for byte, and run nothing", async () => {
  for (const word of HOSTILE_WORDS) {
    // `set --` makes the quoted text the positional parameters: exactly one, equal to word.
    const script = `set -- ${quoteForSh(word)}\nprintf '%d:' "$#"\nprintf '%s' "$1"`;
    const { code, stdout, left } = await sh(script);
    assert.equal(code, 0, JSON.stringify(word));
    assert.equal(stdout, `1:${word}`, JSON.stringify(word));
    assert.deepEqual(left, [], `${JSON.stringify(word)} created files`);
  }
});

Deno.test("quoteForSh words reach a command's arguments unchanged, several in a row", async () => {
  const script = `printf '<%s>' ${HOSTILE_WORDS.map(quoteForSh).join(" ")}`;
  const { code, stdout, left } = await sh(script);
  assert.equal(code, 0);
  assert.equal(stdout, HOSTILE_WORDS.map((word) => `<${word}>`).join(""));
  assert.deepEqual(left, []);
});

Deno.test("the sh harness notices injection: an unquoted $(touch) creates a file", async () => {
  // Guards the test above: it would pass vacuously if sh never ran what it was given.
  const { stdout, left } = await sh(`set -- $(touch pwned) x\nprintf '%d' "$#"`);
  assert.equal(stdout, "1");
  assert.deepEqual(left, ["pwned"]);
});
