/** --exclude patterns: which names and paths they leave out. */
import assert from "node:assert/strict";
import { compileExcludes, type Exclude, globToRegex } from "../../lib/sources/folder/exclude.ts";

function compiled(...patterns: string[]): Exclude {
  const exclude = compileExcludes(patterns);
  if ("problem" in exclude) throw new Error(exclude.problem);
  return exclude;
}

Deno.test("a pattern without '/' matches a name at any depth", () => {
  const exclude = compiled("*.log", "node_modules");
  assert.equal(exclude.matches("debug.log", false), true);
  assert.equal(exclude.matches("src/deep/debug.log", false), true);
  assert.equal(exclude.matches("src/node_modules", true), true);
  assert.equal(exclude.matches("src/logs", true), false);
  assert.equal(exclude.matches("debug.log.1", false), false);
});

Deno.test("a pattern with '/' matches the path from the top; '**' crosses folders", () => {
  const exclude = compiled("build/*.o", "cache/**", "**/tmp");
  assert.equal(exclude.matches("build/a.o", false), true);
  assert.equal(exclude.matches("build/sub/a.o", false), false);
  assert.equal(exclude.matches("src/build/a.o", false), false);
  assert.equal(exclude.matches("cache/x/y", false), true);
  assert.equal(exclude.matches("tmp", true), true);
  assert.equal(exclude.matches("a/b/tmp", true), true);
});

Deno.test("a trailing '/' matches folders only", () => {
  const exclude = compiled("cache/");
  assert.equal(exclude.matches("cache", true), true);
  assert.equal(exclude.matches("cache", false), false);
  assert.equal(exclude.matches("src/cache", true), true);
});

Deno.test("? and sets, and what cannot be used", () => {
  assert.equal(globToRegex("file?.[ch]")!.test("file1.c"), true);
  assert.equal(globToRegex("file?.[ch]")!.test("file12.c"), false);
  assert.equal(globToRegex("[!a]*")!.test("abc"), false);
  assert.equal(globToRegex("a.b")!.test("aXb"), false, "a dot is a dot");
  assert.equal(globToRegex("[a"), undefined);
  assert.match((compileExcludes([""]) as { problem: string }).problem, /empty --exclude/);
  assert.match((compileExcludes(["[a"]) as { problem: string }).problem, /unclosed '\['/);
});
