/** Where the bytes of a backup come from. */
import type { SourceInfo } from "../backup/metadata.ts";
import type { Ownership } from "../backup/permissions.ts";
import type { OpenFile } from "../stores/store.ts";

export interface Source {
  /** Whether a read can be repeated when the content changed during it (a file can, a pipe cannot). */
  readonly rereadable: boolean;
  /** The size of the content when known before reading, for progress. */
  readonly expectedSize?: number;
  /**
   * The local file the current read has open, which a store may copy in the
   * kernel instead of writing what read() gives. Set once the first chunk
   * has been asked for.
   */
  readonly openFile?: OpenFile;
  /** One pass over the content; a chunk is valid only until the next is asked for. */
  read(): AsyncIterable<Uint8Array>;
  /**
   * The current read will not be consumed to its end (the run failed while
   * it was under way): stop what produces it now, without waiting.
   */
  abort?(): void;
  /**
   * After a read was consumed (and anything done alongside it): whether the
   * content may have changed since the read began.
   */
  changedDuringLastRead(): Promise<boolean>;
  /**
   * Why empty content most likely means a failure (a pipe whose command
   * failed, a file emptied while the run began), or undefined when it may
   * well be the real content.
   */
  unexpectedlyEmpty(): string | undefined;
  /** Who may read the content where it comes from; undefined when only its reader could. */
  ownership(): Ownership | undefined;
  /** What metadata records of the source, as of the last read. */
  info(): SourceInfo;
  /**
   * The last read's identity for "unchanged", when it differs from the
   * content's sha256 (a dump that embeds its creation time); see identity.ts.
   */
  identity?(): string | undefined;
  /** Which parts of the content changed during the last read, in words, if the source can say. */
  whatChanged?(): string | undefined;
  /** What the user should know about the last read although it succeeded. */
  warnings?(): string[];
}
