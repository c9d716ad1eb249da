/**
 * What PostgreSQL's client programs say, read: which failure a message
 * means, which version a program is. Pure: text in, facts out.
 */

export type ConnectionProblem = "no such database" | "authentication" | "unreachable";

/** The kind of connection failure psql or pg_dump reported on stderr, if it is one. */
export function connectionProblemOf(stderr: string): ConnectionProblem | undefined {
  if (/database "[^"]*" does not exist/.test(stderr)) return "no such database";
  if (
    /password authentication failed|no password supplied|fe_sendauth|authentication failed|role "[^"]*" does not exist|no pg_hba\.conf entry/
      .test(stderr)
  ) {
    return "authentication";
  }
  if (
    /could not connect|Connection refused|could not translate host name|timeout expired|No such file or directory|Network is unreachable|server closed the connection/
      .test(stderr)
  ) {
    return "unreachable";
  }
  return undefined;
}

/** The major version in `pg_dump --version` output ("pg_dump (PostgreSQL) 15.18 ..." is 15). */
export function clientMajorVersion(versionOutput: string): number | undefined {
  const match = /\(PostgreSQL\) (\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const major = Number(match[1]);
  // Before 10, the major version had two parts: 9.6 is major 9.6, said as 906 here.
  return major < 10 ? major * 100 + Number(match[2] ?? 0) : major;
}

/** The major version in `SHOW server_version_num` (150018 is 15, 90624 is 906). */
export function serverMajorVersion(versionNum: string): number | undefined {
  const num = /^\s*(\d{5,6})\s*$/.exec(versionNum)?.[1];
  if (!num) return undefined;
  const n = Number(num);
  return n >= 100000 ? Math.floor(n / 10000) : Math.floor(n / 100);
}

/** A major version as people write it: 15, or 9.6. */
export function versionText(major: number): string {
  return major >= 100 ? `${Math.floor(major / 100)}.${major % 100}` : String(major);
}

/**
 * Whether a database argument carries a password (a URI with user:password@,
 * or a `password=` keyword): it would be on the command line, and in an at
 * job, for anyone to read.
 */
export function carriesPassword(target: string): boolean {
  if (/^postgres(ql)?:\/\//.test(target)) {
    const authority = target.replace(/^postgres(ql)?:\/\//, "").split(/[/?#]/)[0];
    const userInfo = authority.includes("@") ? authority.slice(0, authority.lastIndexOf("@")) : "";
    return userInfo.includes(":") || /[?&]password=/.test(target);
  }
  return /(^|\s)password\s*=/.test(target);
}

/** Whether a database argument is a connection string (URI or keywords), not a plain name. */
export function isConnectionString(target: string): boolean {
  return /^postgres(ql)?:\/\//.test(target) || target.includes("=");
}
