/**
 * --exclude patterns, as tar and rsync users write them: `*` and `?` match
 * within one name, `**` across folders, `[abc]` one of a set. A pattern
 * without '/' is matched against the name of each file and folder at any
 * depth (`*.log`, `node_modules`); one with '/' against the path from the
 * backed-up folder (`cache/**`, `build/*.o`); a trailing '/' matches folders
 * only. An excluded folder is left out with all it holds. Pure.
 */

export interface Exclude {
  /** Whether the entry at `path` (relative, '/'-separated) is left out. */
  matches(path: string, isFolder: boolean): boolean;
}

/** Compiles the patterns, or says why one cannot be used. */
export function compileExcludes(patterns: readonly string[]): Exclude | { problem: string } {
  const compiled: { regex: RegExp; byName: boolean; foldersOnly: boolean }[] = [];
  for (const pattern of patterns) {
    if (pattern === "" || pattern === "/") return { problem: `an empty --exclude pattern` };
    const foldersOnly = pattern.endsWith("/");
    const body = pattern.replace(/\/+$/, "").replace(/^\/+/, "");
    const regex = globToRegex(body);
    if (!regex) return { problem: `--exclude '${pattern}' has an unclosed '['` };
    compiled.push({ regex, byName: !body.includes("/"), foldersOnly });
  }
  return {
    matches(path, isFolder) {
      const name = path.slice(path.lastIndexOf("/") + 1);
      return compiled.some((c) =>
        (!c.foldersOnly || isFolder) && c.regex.test(c.byName ? name : path)
      );
    },
  };
}

/** A glob as an anchored regular expression; undefined when a '[' is never closed. */
export function globToRegex(glob: string): RegExp | undefined {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      // `**/` matches no folder too, so `**/x` finds x at the top as well.
      const slash = glob[i + 2] === "/";
      source += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") {
      source += "[^/]*";
    } else if (c === "?") {
      source += "[^/]";
    } else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end === -1) return undefined;
      let set = glob.slice(i + 1, end);
      const negated = set.startsWith("!") || set.startsWith("^");
      if (negated) set = set.slice(1);
      source += `[${negated ? "^" : ""}${set.replace(/[\\\]]/g, "\\$&")}]`;
      i = end;
    } else {
      source += c.replace(/[.+^${}()|\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`, "s");
}
