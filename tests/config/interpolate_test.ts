import assert from "node:assert/strict";
import { interpolate } from "../../lib/config/interpolate.ts";

const ENV: Record<string, string> = { HOST: "db1", EMPTY: "", UUID: "1234-abcd" };
const env = (name: string) => ENV[name];

Deno.test("interpolate: ${VAR}, ${VAR:-default} (also for an empty VAR, as sh), text around them", () => {
  const cases: [string, string][] = [
    ["s3://b/${HOST}", "s3://b/db1"],
    ["${HOST}-${HOST}", "db1-db1"],
    ["${MISSING:-fallback}", "fallback"],
    ["${EMPTY:-fallback}", "fallback"],
    ["${EMPTY}", ""],
    ["${HOST:-x}", "db1"],
    ["${MISSING:-}", ""],
    ["${MISSING:-a:-b}", "a:-b"],
    ["no references", "no references"],
    ["a $HOST b", "a $HOST b"],
    ["$", "$"],
  ];
  for (const [text, value] of cases) assert.deepEqual(interpolate(text, env), { value }, text);
});

Deno.test("interpolate: $${ is a literal ${, and is not expanded", () => {
  assert.deepEqual(interpolate("$${HOST}", env), { value: "${HOST}" });
  assert.deepEqual(interpolate("$$${HOST}", env), { value: "$${HOST}" });
  assert.deepEqual(interpolate("${HOST}$${HOST}", env), { value: "db1${HOST}" });
});

Deno.test("interpolate: an unset variable without a default is an error naming each, once", () => {
  assert.deepEqual(interpolate("https://hc-ping.com/${HC_UUID}", env), {
    problem: "${HC_UUID} is not set (give a default with ${HC_UUID:-VALUE})",
  });
  assert.deepEqual(interpolate("${A}/${B}/${A}", env), {
    problem: "${A}, ${B} are not set (give a default with ${A:-VALUE})",
  });
});

Deno.test("interpolate: a ${ that is not a reference is an error, with the escape to use", () => {
  assert.deepEqual(interpolate("cost ${", env), {
    problem: "'${' without a closing '}' (write $${ for a literal ${)",
  });
  assert.deepEqual(interpolate("${1X}", env), {
    problem:
      "'${1X}' is not a variable: names are letters, digits and _ (write $${ for a literal ${)",
  });
  assert.deepEqual(interpolate("${}", env), {
    problem:
      "'${}' is not a variable: names are letters, digits and _ (write $${ for a literal ${)",
  });
});
