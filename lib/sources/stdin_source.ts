/** Standard input: read once, as it comes, so it can never be re-read. */
import type { SourceInfo } from "../backup/metadata.ts";
import { readChunksReusingAsync } from "../io/chunks.ts";
import type { Source } from "./source.ts";

export class StdinSource implements Source {
  readonly rereadable = false;
  readonly expectedSize = undefined;

  read(): AsyncIterable<Uint8Array> {
    // A pipe may stay silent for long: waiting asynchronously lets Ctrl-C through.
    return readChunksReusingAsync(Deno.stdin);
  }

  changedDuringLastRead(): Promise<boolean> {
    return Promise.resolve(false);
  }

  unexpectedlyEmpty(): string {
    return "nothing came in on stdin, which usually means the command feeding it failed";
  }

  ownership(): undefined {
    return undefined;
  }

  info(): SourceInfo {
    return { kind: "stdin" };
  }
}
