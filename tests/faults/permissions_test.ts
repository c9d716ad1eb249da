/**
 * Permissions (issue 5, item 7). Tests run as root, which reads and writes
 * everything, so every run here is made as the unprivileged user `nobody`
 * (setpriv), mostly with umask 000, the most permissive a caller can have:
 * whatever is private here is private because tinybackup made it so.
 *
 * What "temporary files are never readable by others" means here, precisely:
 * the staging folder is 0700 and owned by the running user for the whole run,
 * so no other user can open anything inside it; and each file in it is 0600
 * until its content is complete, taking the backup's final mode (never more
 * than the source's read and write bits) only once it holds exactly the bytes
 * about to be published under that mode. A poller lstat's the staging folder
 * as fast as it can during large backups to check both.
 */
import assert from "node:assert/strict";
import { needs, programs, ROOT } from "../_requires.ts";
import {
  commandLine,
  NOBODY,
  type Run,
  run,
  sameBytes,
  snapshotTree,
  tempDir,
  textBytes,
} from "../cli/_cli.ts";

const withRootAndSetpriv = await needs("faults/permissions_test.ts", ROOT, programs("setpriv"));
const withAcl = await needs(
  "faults/permissions_test.ts: default ACL",
  ROOT,
  programs("setpriv", "setfacl", "getfacl"),
);

const COMPRESSIONS = ["gzip", "zstd", "none"] as const;

/** Runs tinybackup as nobody with `umask`, the way a user's shell would. */
async function asNobody(args: string[], umask = "000"): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command("setpriv", {
    args: [
      `--reuid=${NOBODY.uid}`,
      `--regid=${NOBODY.gid}`,
      "--clear-groups",
      "sh",
      "-c",
      `umask ${umask} && exec "$@"`,
      "sh",
      ...commandLine(args),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr), bytes: stdout };
}

/** A test folder nobody can reach, with a work folder `w` that nobody owns. */
async function setUp() {
  const dir = await tempDir();
  await Deno.chmod(dir.path, 0o755);
  const w = `${dir.path}/w`;
  await Deno.mkdir(w, { mode: 0o755 });
  await Deno.chown(w, NOBODY.uid, NOBODY.gid);
  return { root: dir.path, w, [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose]() };
}

/** Writes `content` to `path`, owned by `owner` with `mode`. */
async function plant(
  path: string,
  content: Uint8Array,
  mode: number,
  owner: { uid: number; gid: number } | null = NOBODY,
): Promise<void> {
  await Deno.writeFile(path, content);
  if (owner) await Deno.chown(path, owner.uid, owner.gid);
  await Deno.chmod(path, mode);
}

/** A folder owned by `owner` with `mode`. */
async function folder(path: string, mode: number, owner: { uid: number; gid: number } | null) {
  await Deno.mkdir(path, { recursive: true });
  if (owner) await Deno.chown(path, owner.uid, owner.gid);
  await Deno.chmod(path, mode);
}

const modeOf = (path: string) => Deno.lstatSync(path).mode! & 0o7777;
const octal = (mode: number) => `0${mode.toString(8)}`;

/** Asserts a refusal: exit 2, nothing on stdout, one `tinybackup: error:` line (and maybe a hint). */
function assertRefused(r: Run, message: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout, "", what);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.filter((l) => l.startsWith("tinybackup: error: ")).length, 1, r.stderr);
  assert.ok(lines.every((l) => /^tinybackup: (error|hint): /.test(l)), `${what}: ${r.stderr}`);
  assert.match(lines[0], message, what);
}

const SOURCE_MODES = [0o600, 0o640, 0o644, 0o400, 0o755];

Deno.test({
  name: "faults/permissions: a backup and its metadata are never more readable than the source",
  ignore: withRootAndSetpriv.ignore,
  async fn() {
    await using t = await setUp();
    let checked = 0;
    for (const compression of COMPRESSIONS) {
      const dest = `${t.w}/dest-${compression}/deep`;
      for (const mode of SOURCE_MODES) {
        const file = `${t.w}/source-${octal(mode)}`;
        const content = textBytes(2000, mode);
        await plant(file, content, mode);
        const r = await asNobody(["--file", file, "--dest", dest, "--compress", compression]);
        assert.equal(r.code, 0, r.stderr);
        const backup = r.stdout.trim();
        const what = `${compression}, source ${octal(mode)}`;
        // Never more readable than the source, never writable nor executable, whatever the umask.
        assert.equal(modeOf(backup), mode & 0o444, what);
        assert.equal(Deno.lstatSync(backup).uid, NOBODY.uid);
        const metadata = `${dest}/.tinybackup/${backup.slice(dest.length + 1)}.json`;
        assert.equal(modeOf(metadata), 0o400, `metadata: ${what}`);
        assert.equal(JSON.parse(Deno.readTextFileSync(metadata)).source.mode, mode);
        checked++;
      }
      // Every folder tinybackup made is 0700, even with umask 000.
      for (const made of ["..", "", "/.tinybackup", "/.tinybackup/tmp", "/.tinybackup/locks"]) {
        const path = made === ".." ? `${t.w}/dest-${compression}` : `${dest}${made}`;
        assert.equal(modeOf(path), 0o700, `${path} (umask 000)`);
      }
    }
    console.log(
      `faults/permissions: ${checked} backups as nobody with umask 000 (sources ${
        SOURCE_MODES.map(octal).join(", ")
      } x ${COMPRESSIONS.join(", ")}): none more readable than its source, none writable or ` +
        `executable, metadata 0400, created folders 0700`,
    );
  },
});

/** What a poller saw of one staging file. */
interface Sighting {
  name: string;
  mode: number;
  size: number;
}

/**
 * Watches `staging` (and the folders holding it) until `done`, as fast as
 * one thread can, and records every file seen in it.
 */
async function watchStaging(dest: string, done: () => boolean) {
  const staging = `${dest}/.tinybackup/tmp`;
  const sightings: Sighting[] = [];
  const folderModes = new Set<string>();
  let polls = 0;
  while (!done()) {
    for (let i = 0; i < 200; i++) {
      polls++;
      let names: string[];
      try {
        names = [...Deno.readDirSync(staging)].map((entry) => entry.name);
      } catch {
        continue;
      }
      for (const folder of [`${dest}/.tinybackup`, staging]) {
        const info = Deno.lstatSync(folder);
        folderModes.add(`${info.mode! & 0o7777}:${info.uid}`);
      }
      for (const name of names) {
        try {
          const info = Deno.lstatSync(`${staging}/${name}`);
          sightings.push({ name, mode: info.mode! & 0o7777, size: info.size });
        } catch {
          // Published and removed between the listing and the look.
        }
      }
    }
    await new Promise((wake) => setTimeout(wake, 0));
  }
  return { sightings, folderModes, polls };
}

Deno.test({
  name:
    "faults/permissions: temporary files are 0600 until complete, in a 0700 folder, even with umask 000",
  ignore: withRootAndSetpriv.ignore,
  async fn() {
    await using t = await setUp();
    // Random content compresses slowly, so the staged file lives long enough to be seen often.
    const big = `${t.w}/big.bin`;
    await run("sh", ["-c", 'head -c 100000000 /dev/urandom > "$1"', "sh", big]);
    await Deno.chown(big, NOBODY.uid, NOBODY.gid);
    let totalSightings = 0;
    let totalPolls = 0;
    for (
      const [compression, mode] of [
        ["gzip", 0o644],
        ["zstd", 0o640],
        ["none", 0o644],
        ["none", 0o600],
      ] as const
    ) {
      await Deno.chmod(big, mode);
      const dest = `${t.w}/dest-${compression}`;
      const child = new Deno.Command("setpriv", {
        args: [
          `--reuid=${NOBODY.uid}`,
          `--regid=${NOBODY.gid}`,
          "--clear-groups",
          "sh",
          "-c",
          'umask 000 && exec "$@"',
          "sh",
          ...commandLine(["--file", big, "--dest", dest, "--compress", compression, "--json"]),
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let finished = false;
      const output = child.output().finally(() => finished = true);
      const { sightings, folderModes, polls } = await watchStaging(dest, () => finished);
      const { code, stdout, stderr } = await output;
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const result = JSON.parse(new TextDecoder().decode(stdout));
      const what = `${compression}, source ${octal(mode)}`;

      assert.deepEqual([...folderModes], [`${0o700}:${NOBODY.uid}`], `staging folders: ${what}`);
      const backupFiles = sightings.filter((s) => s.size > 1000);
      assert.ok(backupFiles.length > 0, `the poller saw the staged backup (${what}): it can fail`);
      for (const s of sightings) {
        if (s.mode === 0o600) continue;
        // The kernel's copy gives the file the source's mode while it fills: in a 0700 folder.
        if (compression === "none" && s.mode === mode) continue;
        // Metadata, complete and made read-only an instant before it is published.
        if (s.mode === 0o400 && s.size < 4096 && s.size !== result.storedSize) continue;
        // Otherwise only the complete backup, an instant before it is published with this very mode.
        assert.equal(s.mode, mode & 0o444, `${what}: ${s.name} was ${octal(s.mode)}`);
        assert.equal(
          s.size,
          result.storedSize,
          `${what}: ${s.name} was ${octal(s.mode)} with ${s.size} of ${result.storedSize} bytes`,
        );
      }
      totalSightings += sightings.length;
      totalPolls += polls;
    }
    console.log(
      `faults/permissions: ${totalPolls} polls of the staging folder during 4 backups of 100 MB ` +
        `as nobody (umask 000): ${totalSightings} sightings of temporary files, every one 0600 ` +
        `until complete (or the source's own mode while the kernel copies it), in folders 0700`,
    );
  },
});

Deno.test({
  name: "faults/permissions: restore writes the original mode, whatever the umask",
  ignore: withRootAndSetpriv.ignore,
  async fn() {
    await using t = await setUp();
    let restored = 0;
    for (const mode of SOURCE_MODES) {
      const file = `${t.w}/source-${octal(mode)}`;
      const content = textBytes(300, mode);
      await plant(file, content, mode);
      const backup = (await asNobody(["--file", file, "--dest", `${t.w}/b`])).stdout.trim();
      for (const umask of ["000", "077"]) {
        const target = `${t.w}/restored-${octal(mode)}-${umask}`;
        const r = await asNobody(["restore", backup, "--to", target], umask);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(modeOf(target), mode & 0o777, `${octal(mode)} with umask ${umask}`);
        assert.ok(sameBytes(await Deno.readFile(target), content));
        restored++;
      }
      // --force over a file of another mode gives the original mode back too.
      const other = `${t.w}/other-${octal(mode)}`;
      await plant(other, textBytes(1), 0o666);
      const forced = await asNobody(["restore", backup, "--to", other, "--force"]);
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(modeOf(other), mode & 0o777, `--force over 0666, ${octal(mode)}`);
      restored++;
    }
    console.log(
      `faults/permissions: ${restored} restores as nobody (umask 000, 077, and --force over 0666) ` +
        `wrote the source's own mode`,
    );
  },
});

Deno.test({
  name:
    "faults/permissions: unreadable sources and unwritable destinations exit 2 and write nothing",
  ignore: withRootAndSetpriv.ignore,
  async fn() {
    await using t = await setUp();
    const { w, root } = t;
    const ROOT = { uid: 0, gid: 0 };
    const content = textBytes(100);
    await plant(`${w}/ok.db`, content, 0o600);
    const backup = (await asNobody(["--file", `${w}/ok.db`, "--dest", `${w}/ok-backups`]))
      .stdout.trim();
    const backupName = backup.slice(`${w}/ok-backups/`.length);

    const cases: { what: string; setUp: () => Promise<void>; args: string[]; error: RegExp }[] = [
      {
        what: "a source owned by root, 0600",
        setUp: () => plant(`${w}/root.db`, content, 0o600, ROOT),
        args: ["--file", `${w}/root.db`, "--dest", `${w}/d1`],
        error: /cannot read file: .*root\.db: permission denied/,
      },
      {
        what: "nobody's own source, mode 0000",
        setUp: () => plant(`${w}/none.db`, content, 0o000),
        args: ["--file", `${w}/none.db`, "--dest", `${w}/d2`],
        error: /cannot read file: .*none\.db: permission denied/,
      },
      {
        what: "a source in a folder nobody cannot enter",
        setUp: async () => {
          await folder(`${root}/private`, 0o700, ROOT);
          await plant(`${root}/private/notes.db`, content, 0o644, ROOT);
        },
        args: ["--file", `${root}/private/notes.db`, "--dest", `${w}/d3`],
        error: /cannot read file: .*notes\.db: permission denied/,
      },
      {
        what: "an existing destination owned by root, 0755",
        setUp: () => folder(`${root}/rootdest`, 0o755, ROOT),
        args: ["--file", `${w}/ok.db`, "--dest", `${root}/rootdest`],
        error: /destination is not writable/,
      },
      {
        what: "a new destination in a folder owned by root",
        setUp: () => Promise.resolve(),
        args: ["--file", `${w}/ok.db`, "--dest", `${root}/new/deeper`],
        error: /destination is not writable/,
      },
      {
        what: "a destination in a folder nobody cannot enter",
        setUp: () =>
          folder(`${root}/closed/dest`, 0o777, ROOT).then(() =>
            Deno.chmod(`${root}/closed`, 0o700)
          ),
        args: ["--file", `${w}/ok.db`, "--dest", `${root}/closed/dest`],
        error: /cannot reach destination: .*permission denied/,
      },
      {
        what: "nobody's own destination, mode 0500",
        setUp: () => folder(`${w}/readonly`, 0o500, NOBODY),
        args: ["--file", `${w}/ok.db`, "--dest", `${w}/readonly`],
        error: /destination is not writable/,
      },
      {
        what: "a destination whose .tinybackup belongs to root",
        setUp: async () => {
          await folder(`${w}/d8`, 0o700, NOBODY);
          await folder(`${w}/d8/.tinybackup`, 0o700, ROOT);
        },
        args: ["--file", `${w}/ok.db`, "--dest", `${w}/d8`],
        error: /cannot read .*d8\/\.tinybackup: permission denied/,
      },
      {
        what: "a destination whose staging folder belongs to root",
        setUp: async () => {
          await folder(`${w}/d9`, 0o700, NOBODY);
          await folder(`${w}/d9/.tinybackup`, 0o700, NOBODY);
          await folder(`${w}/d9/.tinybackup/tmp`, 0o755, ROOT);
        },
        args: ["--file", `${w}/ok.db`, "--dest", `${w}/d9`],
        error: /destination is not writable/,
      },
      {
        what: "restore into a folder owned by root",
        setUp: () => folder(`${root}/rootto`, 0o755, ROOT),
        args: ["restore", backup, "--to", `${root}/rootto/`],
        error: /cannot write .*rootto.*: permission denied|not writable/,
      },
      {
        what: "restore of a backup nobody cannot read",
        setUp: async () => {
          await Deno.mkdir(`${root}/rootbackups`);
          await run("cp", ["-a", `${w}/ok-backups/.`, `${root}/rootbackups/`]);
          await run("chown", ["-R", "root:root", `${root}/rootbackups`]);
          await run("chmod", ["755", `${root}/rootbackups`, `${root}/rootbackups/.tinybackup`]);
          await run("chmod", ["644", `${root}/rootbackups/.tinybackup/${backupName}.json`]);
        },
        args: ["restore", `${root}/rootbackups/${backupName}`, "--to", `${w}/r11`],
        error: /cannot read .*: permission denied/,
      },
      {
        what: "restore of a backup whose metadata nobody cannot read",
        setUp: async () => {
          await run("chmod", ["644", `${root}/rootbackups/${backupName}`]);
          await run("chmod", ["600", `${root}/rootbackups/.tinybackup/${backupName}.json`]);
        },
        args: ["restore", `${root}/rootbackups/${backupName}`, "--to", `${w}/r12`],
        error: /cannot read .*: permission denied/,
      },
    ];
    for (const c of cases) {
      await c.setUp();
      const before = await snapshotTree(root);
      const r = await asNobody(c.args);
      assertRefused(r, c.error, c.what);
      assert.deepEqual(await snapshotTree(root), before, `${c.what}: nothing written`);
    }
    console.log(
      `faults/permissions: ${cases.length} unreadable sources and unwritable destinations ` +
        `as nobody: exit 2, one error line, nothing on stdout, nothing written`,
    );
  },
});

/** Whether user `uid` of group `gid` (and no other) can open `path` for reading, or for writing. */
async function canOpen(
  who: { uid: number; gid: number },
  path: string,
  how: "read" | "write",
): Promise<boolean> {
  const { code } = await new Deno.Command("setpriv", {
    args: [
      `--reuid=${who.uid}`,
      `--regid=${who.gid}`,
      "--clear-groups",
      "sh",
      "-c",
      how === "read" ? 'exec cat -- "$1" >/dev/null' : 'exec 3>>"$1"',
      "sh",
      path,
    ],
    stdout: "null",
    stderr: "null",
  }).output();
  return code === 0;
}

/** Users and groups with no other role here: no passwd entry is needed to be one. */
const STRANGER = { uid: 4250, gid: 4250 };
const DEST_GROUP = 4243;
const OTHER_GROUP = 4244;

Deno.test({
  name:
    "faults/permissions: a setgid destination of another group never lets that group read a backup",
  ignore: withRootAndSetpriv.ignore,
  async fn() {
    await using t = await setUp();
    const dest = `${t.w}/shared`;
    // Setgid, so new files take its group; not writable by that group, which could swap them.
    await folder(dest, 0o2750, { uid: NOBODY.uid, gid: DEST_GROUP });
    const member = { uid: STRANGER.uid, gid: DEST_GROUP };
    const cases = [
      // nobody may give the backup its own group, the source's: the group bits stay.
      { source: { uid: NOBODY.uid, gid: NOBODY.gid }, gid: NOBODY.gid, mode: 0o440 },
      // A group nobody is not in cannot be given: the backup keeps the folder's, without group bits.
      { source: { uid: NOBODY.uid, gid: OTHER_GROUP }, gid: DEST_GROUP, mode: 0o400 },
    ];
    for (const [i, c] of cases.entries()) {
      const file = `${t.w}/notes-${i}.db`;
      await plant(file, textBytes(100, i), 0o640, c.source);
      const r = await asNobody(["--file", file, "--dest", dest]);
      assert.equal(r.code, 0, r.stderr);
      const backup = r.stdout.trim();
      const info = Deno.lstatSync(backup);
      assert.equal(info.gid, c.gid, `case ${i}: group`);
      assert.equal(octal(info.mode! & 0o7777), octal(c.mode), `case ${i}: mode`);
      assert.equal(
        await canOpen(member, backup, "read"),
        false,
        `case ${i}: a member of the folder's group reads it`,
      );
    }
    console.log(
      "faults/permissions: setgid folder of another group: the backup takes the source's group where it may (0440), else loses its group bits (0400); the folder's group reads neither",
    );
  },
});

Deno.test({
  name:
    "faults/permissions: a default ACL on the destination never lets a named user read a backup",
  ignore: withAcl.ignore,
  async fn() {
    await using t = await setUp();
    const dest = `${t.w}/acl`;
    await folder(dest, 0o755, NOBODY);
    // The user may enter; the default ACL would give it all of every new file.
    await run("setfacl", [
      "-m",
      `u:${STRANGER.uid}:rx`,
      "-d",
      "-m",
      `u:${STRANGER.uid}:rwx`,
      dest,
    ]);
    const file = `${t.w}/notes.db`;
    await plant(file, textBytes(100), 0o640);
    for (const compression of COMPRESSIONS) {
      const r = await asNobody(["--file", file, "--dest", dest, "--compress", compression]);
      assert.equal(r.code, 0, r.stderr);
      const backup = r.stdout.trim();
      const metadata = `${dest}/.tinybackup/${backup.slice(dest.length + 1)}.json`;
      for (const path of [backup, metadata]) {
        const acl = new TextDecoder().decode(await run("getfacl", ["-cp", path]));
        assert.doesNotMatch(acl, /^user:\d+:/m, `${compression}: ${path} has ${acl}`);
        assert.equal(await canOpen(STRANGER, path, "read"), false, `${compression}: ${path}`);
      }
      assert.equal(octal(modeOf(backup)), "0440");
    }
    console.log(
      "faults/permissions: default ACL user:4250:rwx on the destination: 3 backups and their metadata carry no ACL, and that user reads none",
    );
  },
});

Deno.test({
  name:
    "faults/permissions: a backup of a 0666 source is read-only: no other user can overwrite it",
  ignore: withRootAndSetpriv.ignore,
  async fn() {
    await using t = await setUp();
    const file = `${t.w}/open.db`;
    await plant(file, textBytes(100), 0o666);
    // A folder others may enter, so that only the backup's own mode keeps them out.
    await folder(`${t.w}/b`, 0o755, NOBODY);
    const r = await asNobody(["--file", file, "--dest", `${t.w}/b`]);
    assert.equal(r.code, 0, r.stderr);
    const backup = r.stdout.trim();
    assert.equal(octal(modeOf(backup)), "0444");
    assert.equal(await canOpen(STRANGER, backup, "read"), true, "as readable as its source");
    assert.equal(await canOpen(STRANGER, backup, "write"), false, "but not writable by others");
    const verify = await asNobody(["verify", "--dest", `${t.w}/b`]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  },
});

Deno.test({
  name:
    "faults/permissions: an internal folder found open to others is made 0700 before anything is staged in it",
  ignore: withRootAndSetpriv.ignore,
  async fn() {
    await using t = await setUp();
    const dest = `${t.w}/b`;
    await folder(dest, 0o755, NOBODY);
    await folder(`${dest}/.tinybackup`, 0o755, NOBODY);
    await folder(`${dest}/.tinybackup/tmp`, 0o755, NOBODY);
    const file = `${t.w}/notes.db`;
    await plant(file, textBytes(100), 0o644);
    const r = await asNobody(["--file", file, "--dest", dest, "--compress", "none"]);
    assert.equal(r.code, 0, r.stderr);
    for (const folder of [".tinybackup", ".tinybackup/tmp", ".tinybackup/locks"]) {
      assert.equal(octal(modeOf(`${dest}/${folder}`)), "0700", folder);
    }
  },
});
