/** Where the bytes of a backup come from. */
import type { SourceInfo } from "../backup/metadata.ts";

export interface Source {
  /** Whether a read can be repeated when the content changed during it (a file can, a pipe cannot). */
  readonly rereadable: boolean;
  /** Whether no content at all most likely means a failure upstream (a pipe whose command failed). */
  readonly emptyMeansFailure: boolean;
  /** The size of the content when known before reading, for progress. */
  readonly expectedSize?: number;
  /** A local file holding the content, which a store may copy in the kernel instead of writing what read() gives. */
  readonly localPath?: string;
  /** One pass over the content; a chunk is valid only until the next is asked for. */
  read(): AsyncIterable<Uint8Array>;
  /**
   * After a read was consumed (and anything done alongside it): whether the
   * content may have changed since the read began.
   */
  changedDuringLastRead(): Promise<boolean>;
  /** What metadata records of the source, as of the last read. */
  info(): SourceInfo;
}
