/** From settings to sources ready to read: the one place that knows every kind. */
import { UsageError } from "../errors.ts";
import type { ScratchFile } from "../stores/store.ts";
import { CommandSource } from "./command_source.ts";
import { FileSource } from "./file_source.ts";
import { FolderSource } from "./folder_source.ts";
import type { Part } from "./part.ts";
import { openMysql } from "./mysql/mysql_source.ts";
import { openPostgres } from "./postgres/postgres_source.ts";
import { RemoteFolderSource } from "./remote/remote_folder_source.ts";
import { openRemoteSqlite } from "./remote/remote_sqlite.ts";
import type { SourceSpec } from "./source_spec.ts";
import { SqliteSource } from "./sqlite_source.ts";
import { StdinSource } from "./stdin_source.ts";

export interface OpenedSource {
  /** What to back up: one part, or one per database of `--postgres all`. */
  parts: Part[];
  /** The settings that open it again, with paths as the kernel resolves them; undefined for stdin. */
  spec?: SourceSpec;
}

/**
 * Opens and checks the source `spec` names (stdin when given "stdin").
 * @param name the series name, or the prefix of the parts' series names
 * @param scratch makes a private temporary file, for sources that need one
 * @throws {UsageError} when the source cannot be backed up as asked
 */
export async function openSource(
  spec: SourceSpec | { kind: "stdin" },
  name: string,
  scratch: () => ScratchFile,
): Promise<OpenedSource> {
  const one = (source: Part["source"]): Part[] => [{ series: name, source }];
  switch (spec.kind) {
    case "file": {
      const source = await FileSource.open(spec.path);
      return { parts: one(source), spec: { kind: "file", path: source.path } };
    }
    case "sqlite": {
      if (spec.ssh) {
        const source = await openRemoteSqlite(spec.ssh, spec.path);
        const { path } = source.info() as { path: string };
        return { parts: one(source), spec: { ...spec, path } };
      }
      const source = await SqliteSource.open(spec.path, scratch);
      return { parts: one(source), spec: { kind: "sqlite", path: source.path } };
    }
    case "command":
      return { parts: one(await CommandSource.open(spec.command, spec.okExit, spec.ssh)), spec };
    case "postgres":
      return { parts: await openPostgres(spec, name), spec };
    case "mysql":
      return { parts: await openMysql(spec, name), spec };
    case "folder": {
      if (spec.ssh) {
        const parts = await RemoteFolderSource.open(
          spec.ssh,
          spec.path,
          spec.exclude,
          spec.split,
          name,
        );
        return { parts, spec: { ...spec, path: (parts[0].source as RemoteFolderSource).path } };
      }
      const parts = await FolderSource.open(spec.path, spec.exclude, spec.split, name);
      return { parts, spec: { ...spec, path: (parts[0].source as FolderSource).path } };
    }
    case "stdin":
      if (Deno.stdin.isTerminal()) {
        throw new UsageError(
          "--stdin given, but standard input is a terminal",
          "pipe the data in, e.g. 'pg_dump app | tinybackup --stdin --name app.sql --dest DIR'",
        );
      }
      return { parts: one(new StdinSource()) };
  }
}
