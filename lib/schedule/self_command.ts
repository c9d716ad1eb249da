/**
 * The command line that runs this same program, for at(1) jobs: the compiled
 * binary itself, or `deno run ... main.ts` when running from source. Paths
 * are absolute, so a job runs the same program from wherever at starts it.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function selfCommand(): string[] {
  if (Deno.build.standalone) return [Deno.execPath()];
  const main = fileURLToPath(Deno.mainModule);
  const config = join(dirname(main), "deno.json");
  return [
    Deno.execPath(),
    "run",
    "-q",
    "--v8-flags=--expose-gc",
    "-P=tinybackup",
    "--config",
    config,
    main,
  ];
}
