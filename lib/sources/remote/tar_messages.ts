/**
 * What GNU tar says while it archives, read as what it means for the
 * backup: a file that changed while read (tar pads a shrunk one with
 * zeros, and says so), one that vanished, one it could not read. Pure.
 */

export type TarNote =
  | { kind: "changed"; path: string }
  | { kind: "left out"; path: string; reason: string }
  /** tar's closing summary of what it said before. */
  | { kind: "summary" };

/**
 * One line of tar's error output, understood, or undefined when it is
 * something else (which the run then quotes).
 * @param root the name the archive's entries begin with, removed from paths
 */
export function tarNote(line: string, root: string): TarNote | undefined {
  if (/^g?tar: Exiting with failure status due to previous errors$/.test(line)) {
    return { kind: "summary" };
  }
  const changed =
    /^g?tar: (.+): (?:file changed as we read it|File shrank by \d+ bytes; padding with zeros)$/
      .exec(line);
  const removed = /^g?tar: (.+): File removed before we read it$/.exec(line);
  const unreadable =
    /^g?tar: (.+?)(?:: Warning)?: Cannot (?:stat|open|read|readlink|savedir): (.+)$/
      .exec(line);
  const path = relativeTo((changed ?? removed ?? unreadable)?.[1], root);
  if (path === undefined) return undefined;
  if (changed) return { kind: "changed", path };
  const reason = removed || unreadable![2] === "No such file or directory"
    ? "it vanished while the folder was read"
    : unreadable![2] === "Permission denied"
    ? "permission denied"
    : unreadable![2];
  return { kind: "left out", path, reason };
}

/** `root/a/b` as `a/b`; undefined for a path outside the archive's root. */
function relativeTo(path: string | undefined, root: string): string | undefined {
  return path?.startsWith(`${root}/`) ? path.slice(root.length + 1) : undefined;
}
