/**
 * A destination's hidden folder (or a file in it) that another user made.
 * Whoever can write there can plant a backup and its metadata that list
 * would show, verify pass, restore return, and rotation keep instead of the
 * real one. Every command refuses such a destination (exit 2, with a hint)
 * and writes or deletes nothing. Runs as root, which plays the other users
 * (uids with no other role here) and sets the scene.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { type BackupMetadata, formatMetadata } from "../../lib/backup/metadata.ts";
import { backupFileName } from "../../lib/backup/naming.ts";
import { needs, programs, ROOT } from "../_requires.ts";
import { NOBODY, type Run, snapshotTree, tempDir, textBytes, tinybackup } from "../cli/_cli.ts";

/** Root plays the other users, and runs tinybackup as them through setpriv. */
const withRoot = await needs("faults/foreign_folder_test.ts", ROOT, programs("setpriv"));

const ATTACKER = { uid: 4260, gid: 4260 };

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * A backup of `sourcePath` that another user made up: valid metadata, a
 * future time (so it looks newest) and content of its choosing. Returns the
 * backup's file name.
 */
async function plantBackup(dest: string, sourcePath: string, owner = ATTACKER): Promise<string> {
  const content = new TextEncoder().encode("planted content\n");
  const stored = gzipSync(content);
  const time = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const file = backupFileName("notes.db", time, 1, "gzip");
  const metadata: BackupMetadata = {
    format: "tinybackup-backup/2",
    file,
    name: "notes.db",
    generation: 1000,
    source: { kind: "file", path: sourcePath, mode: 0o600, mtime: time.toISOString() },
    time: time.toISOString(),
    compression: "gzip",
    size: content.length,
    storedSize: stored.length,
    storedSha256: sha256(stored),
    sha256: sha256(content),
    changedWhileRead: false,
    tool: "tinybackup 0.1.0",
  };
  await Deno.writeFile(`${dest}/${file}`, stored);
  await Deno.writeTextFile(`${dest}/.tinybackup/${file}.json`, formatMetadata(metadata));
  for (const path of [`${dest}/${file}`, `${dest}/.tinybackup/${file}.json`]) {
    await Deno.chown(path, owner.uid, owner.gid);
    await Deno.chmod(path, 0o644);
  }
  return file;
}

async function folder(path: string, mode: number, owner: { uid: number; gid: number }) {
  await Deno.mkdir(path, { recursive: true });
  await Deno.chown(path, owner.uid, owner.gid);
  await Deno.chmod(path, mode);
}

function assertRefused(r: Run, message: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code}: ${r.stdout}${r.stderr}`);
  assert.equal(r.stdout, "", what);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 2, `${what}: one error and one hint: ${r.stderr}`);
  assert.match(lines[0], message, `${what}: ${r.stderr}`);
  assert.match(lines[1], /^tinybackup: hint: /, what);
}

interface Scene {
  what: string;
  /** As whom tinybackup runs. */
  user: { uid: number; gid: number } | null;
  /** Sets up `dest`, where the user's own source is `source`. */
  setUp: (dest: string, source: string) => Promise<void>;
  error: RegExp;
}

const SCENES: Scene[] = [
  {
    what: "a .tinybackup another user made first, open to all, with a planted backup",
    user: NOBODY,
    setUp: async (dest, source) => {
      await folder(`${dest}/.tinybackup`, 0o777, ATTACKER);
      await folder(`${dest}/.tinybackup/tmp`, 0o777, ATTACKER);
      await plantBackup(dest, source);
    },
    error: /\.tinybackup belongs to another user \(uid 4260\)/,
  },
  {
    what: "the user's own .tinybackup, but writable by anyone",
    user: NOBODY,
    setUp: async (dest, source) => {
      await folder(`${dest}/.tinybackup`, 0o777, NOBODY);
      await folder(`${dest}/.tinybackup/tmp`, 0o700, NOBODY);
      await plantBackup(dest, source, NOBODY);
    },
    error: /\.tinybackup can be written by anyone \(mode 0777\)/,
  },
  {
    what: "the user's own .tinybackup, but writable by its group",
    user: NOBODY,
    setUp: async (dest) => {
      await folder(`${dest}/.tinybackup`, 0o770, NOBODY);
      await folder(`${dest}/.tinybackup/tmp`, 0o700, NOBODY);
    },
    error: /\.tinybackup can be written by its group \(mode 0770\)/,
  },
  {
    what: "a staging folder another user owns, where clean-up deletes files",
    user: NOBODY,
    setUp: async (dest) => {
      await folder(`${dest}/.tinybackup`, 0o700, NOBODY);
      await folder(`${dest}/.tinybackup/tmp`, 0o777, ATTACKER);
    },
    error: /\.tinybackup\/tmp belongs to another user \(uid 4260\)/,
  },
  {
    what: "a metadata file another user owns, in the user's own folder",
    user: NOBODY,
    setUp: async (dest, source) => {
      await folder(`${dest}/.tinybackup`, 0o700, NOBODY);
      await folder(`${dest}/.tinybackup/tmp`, 0o700, NOBODY);
      await plantBackup(dest, source);
    },
    error: /\.json belongs to another user \(uid 4260\)/,
  },
  {
    what: "the user's own metadata file, but writable by anyone",
    user: NOBODY,
    setUp: async (dest, source) => {
      await folder(`${dest}/.tinybackup`, 0o700, NOBODY);
      await folder(`${dest}/.tinybackup/tmp`, 0o700, NOBODY);
      const file = await plantBackup(dest, source, NOBODY);
      await Deno.chmod(`${dest}/.tinybackup/${file}.json`, 0o666);
    },
    error: /\.json can be written by anyone \(mode 0666\)/,
  },
  {
    what: "root running on a folder another user's backups are in",
    user: null,
    setUp: async (dest, source) => {
      await folder(`${dest}/.tinybackup`, 0o700, NOBODY);
      await folder(`${dest}/.tinybackup/tmp`, 0o700, NOBODY);
      await plantBackup(dest, source, NOBODY);
    },
    error: /\.tinybackup belongs to another user \(uid 65534\)/,
  },
];

Deno.test({
  name:
    "faults/foreign: every command refuses a destination whose metadata another user could have written",
  ignore: withRoot.ignore,
  async fn() {
    let refused = 0;
    for (const scene of SCENES) {
      await using dir = await tempDir();
      await Deno.chmod(dir.path, 0o755);
      // Like /tmp: anyone may make files here.
      const dest = `${dir.path}/shared`;
      await folder(dest, 0o1777, { uid: 0, gid: 0 });
      const source = `${dir.path}/notes.db`;
      await Deno.writeFile(source, textBytes(100));
      const owner = scene.user ?? { uid: 0, gid: 0 };
      await Deno.chown(source, owner.uid, owner.gid);
      await scene.setUp(dest, source);
      const planted = [...Deno.readDirSync(dest)].find((e) => e.name.startsWith("notes.db."));
      const asUser = scene.user ?? undefined;
      const commands = [
        ["--file", source, "--dest", dest, "--keep", "1"],
        ["list", "--dest", dest],
        ["verify", "--dest", dest],
        ["prune", "--dest", dest, "--file", source, "--keep", "1"],
        ...(planted
          ? [["restore", `${dest}/${planted.name}`, "--to", `${dir.path}/restored`]]
          : []),
      ];
      for (const args of commands) {
        const before = await snapshotTree(dir.path);
        const r = await tinybackup(args, { asUser });
        assertRefused(r, scene.error, `${scene.what}: ${args[0]}`);
        assert.deepEqual(
          await snapshotTree(dir.path),
          before,
          `${scene.what}: ${args[0]}: nothing written or deleted`,
        );
        refused++;
      }
    }
    console.log(
      `faults/foreign: ${SCENES.length} destinations with metadata others could write (planted backups, foreign or open folders and files): ${refused} commands (backup, list, verify, prune, restore) refused with exit 2 and a hint, nothing written or deleted`,
    );
  },
});

Deno.test({
  name: "faults/foreign: a destination that is the user's alone still works, root-owned parts too",
  ignore: withRoot.ignore,
  async fn() {
    await using dir = await tempDir();
    await Deno.chmod(dir.path, 0o755);
    const dest = `${dir.path}/b`;
    await folder(dest, 0o755, NOBODY);
    const source = `${dir.path}/notes.db`;
    await Deno.writeFile(source, textBytes(100));
    await Deno.chown(source, NOBODY.uid, NOBODY.gid);
    const first = await tinybackup(["--file", source, "--dest", dest], { asUser: NOBODY });
    assert.equal(first.code, 0, first.stderr);
    // Root may own parts: root could write anywhere anyway.
    const metadata = `${dest}/.tinybackup/${first.stdout.trim().slice(dest.length + 1)}.json`;
    await Deno.chown(metadata, 0, 0);
    await Deno.chmod(metadata, 0o444);
    const list = await tinybackup(["list", "--dest", dest], { asUser: NOBODY });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /notes\.db\./);
  },
});

Deno.test({
  name:
    "faults/foreign: a destination others could swap (it or a folder above it writable by them, not sticky, or theirs) is refused",
  ignore: withRoot.ignore,
  async fn() {
    await using dir = await tempDir();
    await Deno.chmod(dir.path, 0o755);
    const source = `${dir.path}/notes.db`;
    await Deno.writeFile(source, textBytes(100));
    await Deno.chown(source, NOBODY.uid, NOBODY.gid);
    const cases = [
      {
        dest: "open",
        setUp: () => folder(`${dir.path}/open`, 0o777, { uid: 0, gid: 0 }),
        error: /\/open can be written by anyone \(mode 0777\), who could swap the backups/,
      },
      {
        dest: "group/mine",
        setUp: async () => {
          await folder(`${dir.path}/group`, 0o775, { uid: 0, gid: 4270 });
          await folder(`${dir.path}/group/mine`, 0o700, NOBODY);
        },
        error:
          /\/group can be written by its group \(mode 0775\), who could swap the backups in .*\/group\/mine/,
      },
      {
        dest: "theirs/mine",
        setUp: async () => {
          await folder(`${dir.path}/theirs`, 0o755, ATTACKER);
          await folder(`${dir.path}/theirs/mine`, 0o700, NOBODY);
        },
        error: /\/theirs belongs to another user \(uid 4260\), who could swap the backups/,
      },
    ];
    for (const c of cases) {
      await c.setUp();
      const dest = `${dir.path}/${c.dest}`;
      for (const args of [["--file", source, "--dest", dest], ["list", "--dest", dest]]) {
        const before = await snapshotTree(dir.path);
        const r = await tinybackup(args, { asUser: NOBODY });
        assertRefused(r, c.error, `${c.dest}: ${args[0]}`);
        assert.deepEqual(await snapshotTree(dir.path), before, `${c.dest}: nothing written`);
      }
    }
    // A sticky folder (as /tmp is) lets nobody rename what is not theirs: fine.
    await folder(`${dir.path}/team`, 0o1777, { uid: 0, gid: 0 });
    const ok = await tinybackup(["--file", source, "--dest", `${dir.path}/team/b`], {
      asUser: NOBODY,
    });
    assert.equal(ok.code, 0, ok.stderr);
  },
});
