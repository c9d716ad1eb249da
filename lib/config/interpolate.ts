/**
 * `${VAR}` and `${VAR:-default}` in a config file's strings, from the
 * environment, as a shell expands them: an unset variable without a
 * default is an error (a typo must not silently become an empty path), and
 * `$${` writes a literal `${`. Pure: the environment is passed in.
 */

/** What went wrong with one string: the variables it needs that are unset, or a malformed `${`. */
export type InterpolationResult = { value: string } | { problem: string };

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function interpolate(
  text: string,
  env: (name: string) => string | undefined,
): InterpolationResult {
  const unset: string[] = [];
  let problem: string | undefined;
  const value = text.replace(REFERENCE, (match, inside: string | undefined) => {
    if (match === "$${") return "${";
    if (inside === undefined) {
      problem ??= "'${' without a closing '}' (write $${ for a literal ${)";
      return match;
    }
    const split = inside.indexOf(":-");
    const name = split === -1 ? inside : inside.slice(0, split);
    if (!NAME.test(name)) {
      problem ??=
        `'\${${inside}}' is not a variable: names are letters, digits and _ (write $\${ for a literal \${)`;
      return match;
    }
    const found = env(name);
    // As in sh, `:-` also replaces a variable that is set but empty.
    if (found !== undefined && (found !== "" || split === -1)) return found;
    if (split !== -1) return inside.slice(split + 2);
    unset.push(name);
    return match;
  });
  if (problem) return { problem };
  if (unset.length > 0) {
    const names = [...new Set(unset)];
    return {
      problem: `${names.map((n) => `\${${n}}`).join(", ")} ${
        names.length === 1 ? "is" : "are"
      } not set (give a default with \${${names[0]}:-VALUE})`,
    };
  }
  return { value };
}
