import assert from "node:assert/strict";
import { escapeForTerminal, jsonForTerminal } from "../lib/terminal_text.ts";

Deno.test("ordinary text, spaces, accents and emoji are shown as they are", () => {
  for (const text of ["notes.db", "my notes.db", "caf\u00e9", "cafe\u0301", "שלום", "📦.tar", ""]) {
    assert.equal(escapeForTerminal(text), text);
  }
});

Deno.test("newline, carriage return and tab are spelled \\n, \\r and \\t", () => {
  assert.equal(escapeForTerminal("a\nb\rc\td"), "a\\nb\\rc\\td");
  assert.equal(
    escapeForTerminal("x\n2030-01-01T00:00:00Z  1 B  gzip  fake"),
    "x\\n2030-01-01T00:00:00Z  1 B  gzip  fake",
  );
});

Deno.test("other C0 controls, DEL and C1 controls are \\xNN", () => {
  assert.equal(escapeForTerminal("\u001b[2J"), "\\x1b[2J");
  assert.equal(escapeForTerminal("\u001b]0;title\u0007"), "\\x1b]0;title\\x07");
  assert.equal(escapeForTerminal("\u0000\u0001\u001f\u007f"), "\\x00\\x01\\x1f\\x7f");
  assert.equal(escapeForTerminal("\u0080\u0085\u009b31m\u009f"), "\\x80\\x85\\x9b31m\\x9f");
});

Deno.test("invisible format and bidi controls are \\u{NNNN}", () => {
  assert.equal(escapeForTerminal("\u202Egpj.exe"), "\\u{202e}gpj.exe");
  const ranges = [
    [0x200b, 0x200f], // zero-width space, joiners, direction marks
    [0x202a, 0x202e], // bidi embeddings and overrides
    [0x2060, 0x2064], // word joiner, invisible operators
    [0x2066, 0x2069], // bidi isolates
    [0xfeff, 0xfeff], // byte order mark
  ];
  for (const [first, last] of ranges) {
    for (let code = first; code <= last; code++) {
      assert.equal(escapeForTerminal(String.fromCodePoint(code)), `\\u{${code.toString(16)}}`);
    }
  }
});

Deno.test("line separators, tag characters and lone surrogates are escaped too", () => {
  assert.equal(escapeForTerminal("a\u2028b\u2029c"), "a\\u{2028}b\\u{2029}c");
  assert.equal(escapeForTerminal("\u{e0041}\u{e007f}"), "\\u{e0041}\\u{e007f}");
  assert.equal(escapeForTerminal("a\ud800b\udc00"), "a\\u{d800}b\\u{dc00}");
});

Deno.test("a backslash is doubled, so a name that spells an escape never looks like one", () => {
  assert.equal(escapeForTerminal("back\\slash"), "back\\\\slash");
  assert.equal(escapeForTerminal("\\n"), "\\\\n");
  assert.notEqual(escapeForTerminal("\\x1b"), escapeForTerminal("\u001b"));
});

Deno.test("escaped text has no character a terminal would obey or hide", () => {
  let everything = "";
  for (let code = 0; code < 0x3000; code++) everything += String.fromCodePoint(code);
  everything += "\u{e0001}\u{e0020}\ufeff\ufff9";
  const shown = escapeForTerminal(everything);
  assert.doesNotMatch(shown, /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u);
});

Deno.test("jsonForTerminal parses back to the exact value and holds no raw unsafe character", () => {
  const value = {
    name: "\u001b[2J\u0007\r\n\u007f\u009b\u202e\u2028\u200b\ufeff\u{e0041}\\ ok",
    list: [1, null, "caf\u00e9"],
  };
  const json = jsonForTerminal(value);
  assert.deepEqual(JSON.parse(json), value);
  assert.doesNotMatch(json.replaceAll("\n", ""), /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u);
  assert.match(json, /\\u009b/);
  assert.match(json, /\\u202e/);
  assert.match(json, /\\udb40\\udc41/);
});

Deno.test("jsonForTerminal is JSON.stringify's indented output when nothing is unsafe", () => {
  const value = { path: "/backups/notes.db.20261122T185413Z.gz", size: 3, ok: true };
  assert.equal(jsonForTerminal(value), JSON.stringify(value, null, 2));
});
