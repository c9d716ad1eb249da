/** The pure parts of the command source: how an exit reads, which program a line starts, the stderr tail. */
import assert from "node:assert/strict";
import { exitProblem, leadingProgram } from "../../lib/sources/command_source.ts";
import { lastLines, OutputTail } from "../../lib/sources/output_tail.ts";
import {
  isSourceSpec,
  parseExitCodes,
  programsNeeded,
  sameSpec,
  type SourceSpec,
} from "../../lib/sources/source_spec.ts";

Deno.test("exitProblem: 0 and the accepted codes succeed; any other code or a signal fails", () => {
  assert.equal(exitProblem({ code: 0, signal: null }, []), undefined);
  assert.equal(exitProblem({ code: 24, signal: null }, [1, 24]), undefined);
  assert.equal(exitProblem({ code: 2, signal: null }, [1, 24]), "failed with exit code 2");
  assert.equal(exitProblem({ code: 137, signal: "SIGKILL" }, [137]), "was killed by SIGKILL");
  assert.equal(
    exitProblem({ code: 143, signal: null }, []),
    "failed with exit code 143 (what a shell reports for a command killed by signal 15)",
  );
});

Deno.test("leadingProgram: the first plain word, unless it is shell syntax", () => {
  assert.equal(leadingProgram("pg_dump -Fc app"), "pg_dump");
  assert.equal(leadingProgram("  /usr/bin/mariadb-dump shop"), "/usr/bin/mariadb-dump");
  assert.equal(leadingProgram("./dump.sh"), "./dump.sh");
  assert.equal(leadingProgram("tar"), "tar");
  for (
    const command of [
      "PGHOST=db pg_dump app",
      "'pg dump' x",
      "$DUMP app",
      "if true; then :; fi",
      "{ a; b; }",
      "(cd /x && tar c .)",
      "exec pg_dump",
    ]
  ) {
    assert.equal(leadingProgram(command), undefined, command);
  }
});

Deno.test("lastLines: the last five lines that hold anything, trimmed; a cut first line is dropped", () => {
  assert.deepEqual(lastLines("a\n\n  b  \r\nc\n", false), ["a", "b", "c"]);
  assert.deepEqual(lastLines("1\n2\n3\n4\n5\n6\n7\n", false), ["3", "4", "5", "6", "7"]);
  assert.deepEqual(lastLines("end of a line\nwhole\n", true), ["whole"]);
  assert.deepEqual(lastLines("only part", true), ["only part"]);
  assert.deepEqual(lastLines("", false), []);
});

Deno.test("OutputTail keeps only the end of long output", () => {
  const tail = new OutputTail();
  const encoder = new TextEncoder();
  for (let i = 0; i < 10_000; i++) tail.add(encoder.encode(`line ${i}\n`));
  assert.deepEqual(tail.lines(), ["line 9995", "line 9996", "line 9997", "line 9998", "line 9999"]);
});

Deno.test("parseExitCodes: codes 1 to 255 separated by commas, sorted once each", () => {
  assert.deepEqual(parseExitCodes("1"), [1]);
  assert.deepEqual(parseExitCodes("24,1,24"), [1, 24]);
  assert.deepEqual(parseExitCodes("255"), [255]);
  for (const text of ["", "0", "256", "1,", ",1", "1 2", "a", "-1", "1,,2", "1000"]) {
    assert.equal(parseExitCodes(text), undefined, text);
  }
});

Deno.test("isSourceSpec and sameSpec", () => {
  assert.equal(isSourceSpec({ kind: "file", path: "/a" }), true);
  assert.equal(isSourceSpec({ kind: "file", path: "a" }), false);
  assert.equal(isSourceSpec({ kind: "command", command: "x", okExit: [1] }), true);
  assert.equal(isSourceSpec({ kind: "command", command: "x", okExit: [1.5] }), false);
  assert.equal(isSourceSpec(null), false);
  const command: SourceSpec = { kind: "command", command: "x", okExit: [] };
  assert.equal(sameSpec(command, { ...command }), true);
  assert.equal(sameSpec(command, { ...command, okExit: [1] }), false);
  assert.equal(sameSpec({ kind: "file", path: "/a" }, { kind: "sqlite", path: "/a" }), false);
});

Deno.test("programsNeeded: what doctor checks a database job's runs will find", () => {
  const pg = { kind: "postgres", database: "app", exclude: [], env: {} } as const;
  assert.deepEqual(programsNeeded({ ...pg, exclude: [] }).map((n) => n.anyOf), [["pg_dump"], [
    "psql",
  ]]);
  assert.deepEqual(
    programsNeeded({ ...pg, database: "all", exclude: [] }).map((n) => n.anyOf),
    [["pg_dump"], ["psql"], ["pg_dumpall"]],
  );
  assert.deepEqual(
    programsNeeded({ kind: "mysql", database: "shop", exclude: [], env: {} }).map((n) => n.anyOf),
    [["mariadb-dump", "mysqldump"], ["mariadb", "mysql"]],
  );
  assert.deepEqual(programsNeeded({ kind: "file", path: "/x" }), []);
});
