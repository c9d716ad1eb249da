/** From settings to a source ready to read: the one place that knows every kind. */
import { UsageError } from "../errors.ts";
import type { ScratchFile } from "../stores/store.ts";
import { CommandSource } from "./command_source.ts";
import { FileSource } from "./file_source.ts";
import type { Source } from "./source.ts";
import type { SourceSpec } from "./source_spec.ts";
import { SqliteSource } from "./sqlite_source.ts";
import { StdinSource } from "./stdin_source.ts";

export interface OpenedSource {
  source: Source;
  /** The settings that open it again, with paths as the kernel resolves them; undefined for stdin. */
  spec?: SourceSpec;
}

/**
 * Opens and checks the source `spec` names (stdin when given "stdin").
 * @param scratch makes a private temporary file, for sources that need one
 * @throws {UsageError} when the source cannot be backed up as asked
 */
export async function openSource(
  spec: SourceSpec | { kind: "stdin" },
  scratch: () => ScratchFile,
): Promise<OpenedSource> {
  switch (spec.kind) {
    case "file": {
      const source = await FileSource.open(spec.path);
      return { source, spec: { kind: "file", path: source.path } };
    }
    case "sqlite": {
      const source = await SqliteSource.open(spec.path, scratch);
      return { source, spec: { kind: "sqlite", path: source.path } };
    }
    case "command":
      return { source: await CommandSource.open(spec.command, spec.okExit), spec };
    case "stdin":
      if (Deno.stdin.isTerminal()) {
        throw new UsageError(
          "--stdin given, but standard input is a terminal",
          "pipe the data in, e.g. 'pg_dump app | tinybackup --stdin --name app.sql --dest DIR'",
        );
      }
      return { source: new StdinSource() };
  }
}
