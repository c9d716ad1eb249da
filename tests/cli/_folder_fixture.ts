/** A folder with the cases tar formats get wrong, and a way to compare two trees. */

export const LONG_NAME = "日本語のファイル名-😀-".repeat(6) + ".txt"; // over 100 bytes: a pax path

/** A folder with the cases tar formats get wrong: long and unicode names, links, empty folders, modes, times. */
export async function makeFixture(root: string): Promise<void> {
  await Deno.mkdir(`${root}/docs/deep/er/still`, { recursive: true });
  await Deno.mkdir(`${root}/empty`);
  await Deno.writeTextFile(`${root}/docs/readme.txt`, "read me\n");
  await Deno.writeTextFile(`${root}/docs/deep/er/still/${LONG_NAME}`, "long\n");
  await Deno.writeFile(`${root}/random.bin`, crypto.getRandomValues(new Uint8Array(65536)));
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
  await Deno.writeFile(`${root}/big.bin`, big); // over the size read whole
  await Deno.writeTextFile(`${root}/private.key`, "secret\n");
  await Deno.chmod(`${root}/private.key`, 0o600);
  await Deno.writeTextFile(`${root}/tool.sh`, "#!/bin/sh\n");
  await Deno.chmod(`${root}/tool.sh`, 0o755);
  await Deno.symlink("docs/readme.txt", `${root}/link-to-readme`);
  await Deno.symlink("/nonexistent/target", `${root}/dangling`);
  await Deno.symlink("docs", `${root}/link-to-folder`);
  // After 2038, and with milliseconds.
  await Deno.utime(
    `${root}/docs/readme.txt`,
    new Date("2041-05-06T07:08:09.250Z"),
    new Date("2041-05-06T07:08:09.250Z"),
  );
  await Deno.utime(
    `${root}/empty`,
    new Date("2001-01-01T00:00:00Z"),
    new Date("2001-01-01T00:00:00Z"),
  );
}

/** Every path below `root` with its type, mode, mtime (whole seconds), link target and content. */
export async function describeTree(root: string): Promise<string[]> {
  const lines: string[] = [];
  async function walk(dir: string, prefix: string) {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      const info = await Deno.lstat(path);
      const mode = (info.mode! & 0o7777).toString(8);
      const time = info.isSymlink ? "" : Math.floor(info.mtime!.getTime() / 1000);
      let what = "";
      if (info.isSymlink) what = `-> ${await Deno.readLink(path)}`;
      else if (info.isFile) what = `${info.size} ${simpleHash(await Deno.readFile(path))}`;
      lines.push(
        `${prefix}${entry.name} ${info.isDirectory ? "d" : info.isSymlink ? "l" : "f"} ${
          info.isSymlink ? "" : mode
        } ${time} ${what}`,
      );
      if (info.isDirectory) await walk(path, `${prefix}${entry.name}/`);
    }
  }
  await walk(root, "");
  return lines.sort();
}

function simpleHash(bytes: Uint8Array): number {
  let h = 0;
  for (const b of bytes) h = (h * 31 + b) >>> 0;
  return h;
}
