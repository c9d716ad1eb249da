/**
 * The pure half of kernel_path.ts. kernelPath itself is tested through the
 * CLI (tests/cli/paths_test.ts): short of every permission, Deno resolves
 * `..` by text before each file system call, so only under tinybackup's own
 * permission set does it ask the kernel.
 */
import assert from "node:assert/strict";
import { checkNameable, kernelPseudoFolderOf, NAME_MAX } from "../../lib/io/kernel_path.ts";
import { UsageError } from "../../lib/errors.ts";

Deno.test("checkNameable takes ordinary paths, unicode ones and names of exactly NAME_MAX bytes", () => {
  checkNameable("notes.db", "/home/me/notes.db", 4096);
  checkNameable("café.db", "/home/me/café.db", 4096);
  checkNameable("x", `/${"a".repeat(NAME_MAX)}`, 4096);
  checkNameable("x", `/${"é".repeat(NAME_MAX / 2 - 1)}`, 4096);
});

Deno.test("checkNameable refuses U+FFFD, which is what Deno makes of bytes that are not UTF-8", () => {
  assert.throws(
    () => checkNameable("x\uFFFD.db", "/home/me/x\uFFFD.db", 4096),
    (error) =>
      error instanceof UsageError &&
      /cannot use x\uFFFD\.db: the path is not valid UTF-8/.test(error.message) &&
      /rename it/.test(error.hint!),
  );
  // The user's words are what the message names, even when the lossy part came from elsewhere.
  assert.throws(
    () => checkNameable("notes.db", "/home/\uFFFD/notes.db", 4096),
    /cannot use notes\.db: the path is not valid UTF-8/,
  );
});

Deno.test("checkNameable refuses a name over NAME_MAX bytes, counting bytes, not characters", () => {
  assert.throws(
    () => checkNameable("long", `/tmp/${"a".repeat(NAME_MAX + 1)}/x`, 4096),
    /name too long: long: a name in it is 256 bytes; file systems take 255/,
  );
  // 128 characters, 256 bytes.
  assert.throws(() => checkNameable("é", `/${"é".repeat(128)}`, 4096), /256 bytes/);
});

Deno.test("checkNameable refuses a path that does not fit the system's limit with its NUL", () => {
  const path = `/${"d/".repeat(50)}`.slice(0, 100);
  checkNameable("p", path.slice(0, 99), 100);
  assert.throws(
    () => checkNameable("p", path, 100),
    /path too long: p: this system takes paths of up to 99 bytes/,
  );
});

Deno.test("kernelPseudoFolderOf finds /proc and /sys, and nothing that merely looks like them", () => {
  assert.equal(kernelPseudoFolderOf("/proc/cpuinfo"), "/proc");
  assert.equal(kernelPseudoFolderOf("/proc/1234/status"), "/proc");
  assert.equal(kernelPseudoFolderOf("/sys/kernel/uevent_seqnum"), "/sys");
  assert.equal(kernelPseudoFolderOf("/proc"), "/proc");
  assert.equal(kernelPseudoFolderOf("/processes/notes.db"), undefined);
  assert.equal(kernelPseudoFolderOf("/home/me/proc/notes.db"), undefined);
  assert.equal(kernelPseudoFolderOf("/dev/shm/notes.db"), undefined);
});
