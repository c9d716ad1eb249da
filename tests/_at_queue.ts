/**
 * The real at(1) queue, as tests look at it and as atd takes jobs off it.
 * Every at, atq and atrm of the tests goes through here, since they race:
 * Debian's at 3.2.5 stats every file in the spool and gives up ("Cannot stat
 * in /var/spool/cron/atjobs") when another atrm removes one under it,
 * sometimes after printing part of its answer or removing its own job. Such
 * failures are tried again; "Cannot find jobid" is an answer.
 */

interface Answer {
  code: number;
  stdout: Uint8Array;
  stderr: string;
  /** How many runs it took. */
  attempts: number;
}

const ATTEMPTS = 20;

/** Runs at, atq or atrm until it succeeds or says there is no such job; throws when it never does. */
async function answered(
  program: "at" | "atq" | "atrm",
  args: string[],
  env?: Record<string, string>,
): Promise<Answer> {
  for (let attempts = 1;; attempts++) {
    const { code, stdout, stderr } = await new Deno.Command(program, {
      args,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const answer = { code, stdout, stderr: new TextDecoder().decode(stderr), attempts };
    if (code === 0 || noSuchJob(answer)) return answer;
    if (attempts === ATTEMPTS) {
      throw new Error(`${program} ${args.join(" ")} failed ${attempts} times: ${answer.stderr}`);
    }
    // Random pauses, or commands that failed together would retry together.
    await new Promise((wake) => setTimeout(wake, (10 + 40 * Math.random()) * attempts));
  }
}

function noSuchJob(answer: Answer): boolean {
  return /cannot find jobid/i.test(answer.stderr);
}

/** What atq prints for `queue`; `env` such as `{ TZ: "UTC" }` sets the zone of its times. */
export async function atq(queue: string, env?: Record<string, string>): Promise<string> {
  return new TextDecoder().decode((await answered("atq", ["-q", queue], env)).stdout);
}

/** The job numbers queued in `queue`. */
export async function queued(queue: string): Promise<number[]> {
  return (await atq(queue)).split("\n").filter((l) => /^\d+\s/.test(l)).map((l) => parseInt(l));
}

/** The script of job `n` (`at -c`); throws when it is not queued. */
export async function jobScript(n: number): Promise<Uint8Array> {
  const answer = await answered("at", ["-c", String(n)]);
  if (answer.code !== 0) throw new Error(`at job ${n} is not queued: ${answer.stderr}`);
  return answer.stdout;
}

/**
 * Takes job `n` off the queue as atd does when it starts it (`at -c`, then
 * `atrm`) and returns its script. Throws when the job is not queued, or
 * leaves the queue before atrm: a test holding a job expects no one else to.
 */
export async function takeJob(n: number): Promise<Uint8Array> {
  const script = await jobScript(n);
  const removal = await answered("atrm", [String(n)]);
  // After a failed try, "no such job" means that try removed it before giving up.
  if (removal.code !== 0 && removal.attempts === 1) {
    throw new Error(`at job ${n} left the queue before atrm took it: ${removal.stderr}`);
  }
  return script;
}

/** Removes every job in `queue`, whoever removes some of them at the same time. */
export async function emptyQueue(queue: string): Promise<void> {
  for (const n of await queued(queue)) await answered("atrm", [String(n)]);
}

/** Runs a job's script with sh in `cwd`, as atd does. */
export async function runScript(
  script: Uint8Array,
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command("sh", {
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(script);
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}
