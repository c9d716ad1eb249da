/**
 * A folder on another host (--ssh with --folder), archived there by GNU tar
 * into the same kind of stream as a local folder: pax format, names sorted,
 * no access or change times and no process ids in it, so an unchanged tree
 * gives the same bytes and counts as unchanged. The host's `find` lists the
 * folder, our own --exclude rules filter the list here (folder_listing.ts),
 * and tar reads the list on its standard input. Compression and hashing
 * happen here, on tar's output as it arrives.
 *
 * GNU tar is required because it says what bsdtar does not: which files
 * changed while read (a shrunk one it pads with zeros, and says so), and
 * which vanished; those messages become the run's changed and left-out
 * files, as for a local folder (tar_messages.ts).
 */
import type { SourceInfo } from "../../backup/metadata.ts";
import { UsageError } from "../../errors.ts";
import { kernelPseudoFolderOf } from "../../io/kernel_path.ts";
import { CommandSource } from "../command_source.ts";
import { compileExcludes, type Exclude } from "../folder/exclude.ts";
import { listed } from "../folder_source.ts";
import type { Part } from "../part.ts";
import { runProgram } from "../program_host.ts";
import type { Source } from "../source.ts";
import { findMessage, ListingFilter, parseRecord, RECORD_FORMAT } from "./folder_listing.ts";
import { describeHost, type SshHost } from "../../ssh/ssh_host.ts";
import { tarNote } from "./tar_messages.ts";

/**
 * Checks the folder ($1) and finds GNU tar and GNU find: prints the
 * folder's path as the kernel resolves it, then the two programs' names
 * (an empty line for one that is missing). Exits 3 when there is no such
 * folder, 4 when it is something else, 5 when it cannot be entered.
 */
const PROBE_SCRIPT = `[ -e "$1" ] || [ -h "$1" ] || exit 3
[ -d "$1" ] || exit 4
cd -- "$1" 2>/dev/null || exit 5
tar=; for p in gtar tar; do if "$p" --version 2>/dev/null | grep -q 'GNU tar'; then tar=$p; break; fi; done
find=; for p in gfind find; do if "$p" . -maxdepth 0 -printf '' 2>/dev/null; then find=$p; break; fi; done
printf '%s\\n%s\\n%s\\n' "$(pwd -P)" "$tar" "$find"`;

/**
 * Lists the folder ($1) with find ($2, its arguments after), sorted as
 * bytes. The listing goes to a private temporary file first, so that
 * find's own exit status is the script's (a pipe would hide it).
 */
const LIST_SCRIPT = `cd -- "$1" || exit 2
t=$(mktemp) || exit 2
trap 'rm -f -- "$t"' EXIT
shift
"$@" > "$t"; found=$?
LC_ALL=C sort -z -- "$t" || exit 2
exit "$found"`;

/** Runs tar ($2 and its arguments) in the folder's parent ($1). */
const TAR_SCRIPT = `cd -- "$1" || exit 2
shift
exec "$@"`;

/**
 * tar's settings: the list from standard input, taken as it is (names,
 * not options or globs; folders not recursed); pax format without the
 * times and process ids that differ from run to run; hard links stored as
 * files, as a local folder's are; numeric owners, as a local folder's; an
 * unreadable file reported and left out, not fatal.
 */
const TAR_OPTIONS = [
  "--create",
  "--file=-",
  "--format=posix",
  "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
  "--numeric-owner",
  "--hard-dereference",
  "--ignore-failed-read",
  // Names in its messages as they are, so that they are recognised (see tar_messages.ts).
  "--quoting-style=literal",
  "--no-recursion",
  "--null",
  "--verbatim-files-from",
  "--files-from=-",
];

/** tar's exit code when some files changed while read (2 is a fatal error). */
const TAR_SOME_FILES_DIFFER = 1;

/** find's exit code when some entries could not be listed (it says which). */
const FIND_SOME_FAILED = 1;

/** The programs found on the host. */
interface Tools {
  tar: string;
  find: string;
}

/** What part of the folder one tar holds (see --split). */
type Scope = { kind: "all" } | { kind: "loose" } | { kind: "subfolder"; name: string };

export class RemoteFolderSource implements Source {
  readonly rereadable = true;
  readonly expectedSize = undefined;
  #changed: string[] = [];
  #leftOut: string[] = [];
  #toolWarnings: string[] = [];
  /** tar and the find that lists for it, while a read is under way. */
  #tar: CommandSource | undefined;
  #find: CommandSource | undefined;

  private constructor(
    private readonly host: SshHost,
    /** Absolute, as the host's kernel resolves it. */
    readonly path: string,
    private readonly tools: Tools,
    private readonly exclude: Exclude,
    private readonly scope: Scope,
  ) {}

  /**
   * Checks the folder, the programs and the excludes on the host; with
   * `split`, one part per subfolder (`NAME.SUB`) and one for the files at
   * the top (`NAME`), as for a local folder.
   * @throws {UsageError} when the host cannot be reached, the folder is
   *   missing or not one, or GNU tar or GNU find is missing there
   */
  static async open(
    host: SshHost,
    path: string,
    excludes: readonly string[],
    split: boolean,
    name: string,
  ): Promise<Part[]> {
    const where = describeHost(host);
    const exclude = compileExcludes(excludes);
    if ("problem" in exclude) throw new UsageError(exclude.problem);
    const probe = await runProgram(host, ["/bin/sh", "-c", PROBE_SCRIPT, "sh", path]);
    switch (probe.code) {
      case 0:
        break;
      case 3:
        throw new UsageError(`folder not found on ${where}: ${path}`);
      case 4:
        throw new UsageError(`not a folder on ${where}: ${path}`);
      case 5:
        throw new UsageError(`cannot read folder on ${where}: ${path}: permission denied`);
      default:
        throw new UsageError(
          `cannot check the folder ${path} on ${where}${probe.stderr ? `: ${probe.stderr}` : ""}`,
        );
    }
    const [absolute, tar, find] = new TextDecoder().decode(probe.stdout).split("\n");
    if (!absolute.startsWith("/")) {
      throw new UsageError(`cannot name the folder ${path} on ${where}: ${absolute}`);
    }
    const pseudo = kernelPseudoFolderOf(absolute);
    if (pseudo) {
      throw new UsageError(
        `cannot back up ${path} on ${where}: files in ${pseudo} are made by the kernel as they are read`,
      );
    }
    if (!tar || !find) {
      throw new UsageError(
        `backing up a folder over ssh needs GNU tar and GNU find on ${where}, which has no ${
          tar ? "GNU find" : "GNU tar"
        }`,
        "install them there (Debian: apt-get install tar findutils; FreeBSD: pkg install gtar findutils; macOS: brew install gnu-tar findutils); bsdtar cannot say which files changed while read",
      );
    }
    const tools = { tar, find };
    const top = await listTop(host, absolute, tools);
    const filter = new ListingFilter(exclude);
    const kept = top.filter((entry) => filter.judge(entry).keep);
    if (top.length > 0 && kept.length === 0) {
      throw new UsageError(
        `the --exclude patterns leave nothing of ${path} on ${where} to back up`,
        "exclude less, or check the patterns",
      );
    }
    const source = (scope: Scope) => new RemoteFolderSource(host, absolute, tools, exclude, scope);
    if (!split) return [{ series: name, source: source({ kind: "all" }) }];
    const [stem, suffix] = name.endsWith(".tar") ? [name.slice(0, -4), ".tar"] : [name, ""];
    return [
      ...kept.filter((entry) => entry.type === "d").map((entry) => ({
        series: `${stem}.${entry.path}${suffix}`,
        source: source({ kind: "subfolder", name: entry.path }),
      })),
      { series: name, source: source({ kind: "loose" }) },
    ];
  }

  async *read(): AsyncGenerator<Uint8Array> {
    this.#changed = [];
    this.#leftOut = [];
    this.#toolWarnings = [];
    const slash = this.path.lastIndexOf("/");
    const parent = this.path.slice(0, slash) || "/";
    const root = this.path.slice(slash + 1);
    const tar = new CommandSource({
      argv: ["/bin/sh", "-c", TAR_SCRIPT, "sh", parent, this.tools.tar, ...TAR_OPTIONS],
      label: `tar of ${this.path} on ${describeHost(this.host)}`,
      okExit: [TAR_SOME_FILES_DIFFER],
      info: this.info(),
      host: this.host,
      input: () => ReadableStream.from(this.#names(root)),
      stderrLine: (line) => {
        const note = tarNote(line, root);
        if (note?.kind === "changed") this.#changed.push(note.path);
        if (note?.kind === "left out") this.#leftOut.push(`${note.path} (${note.reason})`);
        return note !== undefined;
      },
    });
    this.#tar = tar;
    try {
      yield* tar.read();
    } finally {
      this.#tar = undefined;
      this.#find = undefined;
    }
    this.#toolWarnings.push(...tar.warnings());
    if (tar.exitCode() === TAR_SOME_FILES_DIFFER && this.#changed.length === 0) {
      // tar says some file differs, in a message not understood: the read counts as changed.
      this.#changed.push("(a file tar's messages name in a way not understood)");
    }
  }

  abort(): void {
    this.#tar?.abort();
    this.#find?.abort();
  }

  /** The names tar archives, NUL-terminated: the folder itself, then what the scope holds. */
  async *#names(root: string): AsyncGenerator<Uint8Array> {
    const encoder = new TextEncoder();
    yield encoder.encode(`${root}\0`);
    const filter = new ListingFilter(this.exclude);
    const listing = listingOf(this.host, this.path, this.tools, this.scope, {
      started: (find) => this.#find = find,
      leftOut: (message) => this.#leftOut.push(message),
      warnings: (lines) => this.#toolWarnings.push(...lines),
    });
    for await (const records of listing) {
      let names = "";
      for (const entry of records) {
        const verdict = filter.judge(entry);
        if (verdict.keep) names += `${root}/${entry.path}\0`;
        else if (verdict.leftOut) this.#leftOut.push(verdict.leftOut);
      }
      if (names !== "") yield encoder.encode(names);
    }
  }

  changedDuringLastRead(): Promise<boolean> {
    return Promise.resolve(this.#changed.length > 0);
  }

  whatChanged(): string | undefined {
    return this.#changed.length === 0 ? undefined : listed(this.#changed);
  }

  unexpectedlyEmpty(): undefined {
    return undefined; // a tar is never empty: it holds the folder itself
  }

  ownership(): undefined {
    return undefined; // many owners and modes, on another host: the backup is its owner's only
  }

  info(): SourceInfo {
    return { kind: "folder", path: this.path, host: describeHost(this.host) };
  }

  warnings(): string[] {
    const warnings = [];
    if (this.#leftOut.length > 0) warnings.push(`left out of the backup: ${listed(this.#leftOut)}`);
    if (this.#changed.length > 0) warnings.push(`changed while read: ${listed(this.#changed)}`);
    return [...warnings, ...this.#toolWarnings];
  }
}

/** The entries at the top of the folder. */
async function listTop(host: SshHost, path: string, tools: Tools) {
  const entries = [];
  const ignore = { leftOut: () => {}, warnings: () => {} };
  for await (
    const records of listingOf(host, path, tools, { kind: "loose", folders: true }, ignore)
  ) {
    entries.push(...records);
  }
  return entries;
}

/** Where the listing's reports go: entries find could not list, and what else it said. */
interface ListingNotes {
  started?(find: CommandSource): void;
  leftOut(message: string): void;
  warnings(lines: string[]): void;
}

/** The scope's entries, sorted, in batches as they arrive. */
async function* listingOf(
  host: SshHost,
  path: string,
  tools: Tools,
  scope: Scope | { kind: "loose"; folders: true },
  notes: ListingNotes,
) {
  const findArgs = scope.kind === "subfolder"
    ? [`./${scope.name}`]
    : scope.kind === "loose"
    ? [".", "-mindepth", "1", "-maxdepth", "1", ...("folders" in scope ? [] : ["!", "-type", "d"])]
    : [".", "-mindepth", "1"];
  const find = new CommandSource({
    argv: [
      "/bin/sh",
      "-c",
      LIST_SCRIPT,
      "sh",
      path,
      tools.find,
      ...findArgs,
      "-printf",
      RECORD_FORMAT,
    ],
    label: `find in ${path} on ${describeHost(host)}`,
    okExit: [FIND_SOME_FAILED],
    info: { kind: "folder", path, host: describeHost(host) },
    host,
    stderrLine: (line) => {
      const message = findMessage(line);
      if (message) notes.leftOut(message);
      return message !== undefined;
    },
  });
  notes.started?.(find);
  const decoder = new TextDecoder();
  let partial = new Uint8Array(0);
  for await (const chunk of find.read()) {
    const bytes = partial.length === 0 ? chunk : concat(partial, chunk);
    const records = [];
    let start = 0;
    for (let end = bytes.indexOf(0); end >= 0; end = bytes.indexOf(0, start)) {
      const entry = parseRecord(decoder.decode(bytes.subarray(start, end)));
      if (entry) records.push(entry);
      start = end + 1;
    }
    partial = bytes.slice(start); // a copy: the chunk is reused after this turn
    if (records.length > 0) yield records;
  }
  notes.warnings(find.warnings());
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
