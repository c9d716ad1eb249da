/**
 * ~/.netrc, as ftp(1) and curl read it: `machine HOST login USER password
 * PASS` entries (and one `default`), tokens split by any whitespace, `#`
 * comments at the start of a line, `macdef` blocks skipped. Pure.
 */

export interface NetrcEntry {
  login?: string;
  password?: string;
}

/** The parsed entries: by machine, and the default one. */
export interface Netrc {
  machines: Map<string, NetrcEntry[]>;
  default?: NetrcEntry;
}

export function parseNetrc(text: string): Netrc {
  const netrc: Netrc = { machines: new Map() };
  const tokens: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*#/.test(line)) continue;
    const words = line.trim().split(/\s+/).filter((word) => word !== "");
    if (words[0] === "macdef") {
      // A macro runs to the next empty line.
      while (i + 1 < lines.length && lines[i + 1].trim() !== "") i++;
      continue;
    }
    tokens.push(...words);
  }
  let current: NetrcEntry | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === "machine" && i + 1 < tokens.length) {
      current = {};
      const name = tokens[++i].toLowerCase();
      netrc.machines.set(name, [...netrc.machines.get(name) ?? [], current]);
    } else if (token === "default") {
      current = {};
      netrc.default ??= current;
    } else if ((token === "login" || token === "password") && current && i + 1 < tokens.length) {
      current[token] = tokens[++i];
    } else if (token === "account" && i + 1 < tokens.length) {
      i++; // not used by tinybackup
    }
  }
  return netrc;
}

/**
 * The login and password for `host` (and `user`, when the URL names one):
 * the first entry of that machine that fits, else the default entry.
 */
export function netrcLogin(
  netrc: Netrc,
  host: string,
  user?: string,
): { login: string; password: string } | undefined {
  const fits = (entry: NetrcEntry) =>
    entry.password !== undefined && entry.login !== undefined &&
    (user === undefined || entry.login === user);
  const entry = (netrc.machines.get(host.toLowerCase()) ?? []).find(fits) ??
    (netrc.default && fits(netrc.default) ? netrc.default : undefined);
  return entry ? { login: entry.login!, password: entry.password! } : undefined;
}
