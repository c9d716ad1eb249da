/** One series a run backs up: most sources are one part; `--postgres all` is one per database. */
import type { Source } from "./source.ts";

export interface Part {
  /** The series name of this part's backups. */
  series: string;
  source: Source;
}
