/** Help texts, one per command, printed to stdout by --help. */
import { DEFAULT_KEEP } from "./args.ts";
import type { CommandName } from "./commands.ts";

const MAIN = `tinybackup: one file, folder, database or command's output, copied safely: compressed,
checksummed, rotated.

Usage:
  tinybackup --file PATH --dest DIR [options]        back up one file now
  tinybackup --folder DIR [--exclude GLOB]... [--split] --dest DIR [options]
                                                     a folder as one tar (or one per subfolder)
  tinybackup --sqlite DB --dest DIR [options]        a consistent snapshot of a live SQLite database
  tinybackup --postgres DB|all [--exclude-db NAME]... --dest DIR [options]
                                                     pg_dump -Fc of a database, or of all and the roles
  tinybackup --mysql DB|all [--exclude-db NAME]... --dest DIR [options]
                                                     mariadb-dump (or mysqldump) of a database, or all
  tinybackup --command CMD --name NAME --dest DIR [options]
                                                     a command's output, kept only if it succeeds
  tinybackup --stdin --name NAME --dest DIR [opts]   back up what is piped in
  tinybackup --ssh [USER@]HOST[:PORT] SOURCE --dest DIR [options]
                                                     a folder, database or command on another host
  tinybackup run [--config FILE] [NAME...]          the backups of a config file, now
  tinybackup schedule [--config FILE]                queue a job for each scheduled one
  tinybackup config validate|show|init [--config FILE]
  tinybackup list --dest DIR [--file PATH | --name NAME] [--json]
  tinybackup restore BACKUP [--to PATH | --to -] [--force]
  tinybackup verify --dest DIR [--file PATH | --name NAME] [--json]
  tinybackup prune --dest DIR (--file PATH | --name NAME) --keep N | --keep-daily N ... [--dry-run]
  tinybackup SOURCE --dest DIR (--every DURATION [--at HH:MM] | --time SPEC)
                                                     back up now, then on a schedule
  tinybackup jobs [--json]                           the scheduled jobs
  tinybackup unschedule ID... | --file PATH --dest DIR | --name NAME --dest DIR | --all [--dry-run]
  tinybackup doctor                                  can scheduling work here?
  tinybackup key generate [--output FILE]            an age key pair for encrypted backups
  tinybackup log [ID] [--json]                       history of scheduled runs
  tinybackup COMMAND --help | tinybackup --version

Backup options:
  --keep N          keep the N newest versions of this series (default ${DEFAULT_KEEP};
                    0 keeps all); spare copies of a kept version go
  --keep-hourly N, --keep-daily N, --keep-weekly N, --keep-monthly N, --keep-yearly N
                    keep the newest backup of each of the last N hours, days, ISO
                    weeks, months or years that have backups (local time, as
                    restic's forget); with one of these, --keep defaults to none
  --keep-within SPAN  keep every backup taken within SPAN of the newest:
                    1y6m, 30d, 2w, 36h (m is months here, as in restic)
  --compress KIND   gzip, zstd or none (default gzip)
  --name NAME       series name (default: the file's base name, DB.pgdump, or for
                    --postgres all the prefix 'postgres'; required for --command and --stdin)
  --ok-exit CODES   with --command: exit codes besides 0 that mean success, e.g. 1,24
  --ssh HOST        back up --folder, --sqlite, --postgres, --mysql or --command on HOST,
                    through ssh
                    (never asks for a password; refuses an unknown or changed host key)
  --ssh-config FILE for --ssh and an sftp:// --dest: ssh's config file (ssh -F), instead
                    of ~/.ssh/config
  --force           back up even when the content equals the newest backup
  --allow-changing  keep the last read of a file that never stops changing
  --allow-empty     accept empty content from --stdin or --command, or from a
                    file that was not empty when the run began (refused by
                    default: it usually means the command failed, or that
                    something truncated the file)
  --recipient KEY   encrypt with age to this public key (age1...; may be repeated):
                    names end .age, and age -d -i IDENTITY restores without tinybackup
  --recipients-file FILE  encrypt to every age1... key in FILE (one per line)
  --passphrase-file FILE  encrypt with the passphrase on FILE's first line (scrypt)
  --passphrase-command CMD  ...or with the first line CMD prints (run with sh -c)
  -i, --identity FILE  encrypt to the public key of each age identity in FILE
  --lock-wait SECS  wait this long for another run of the same series to
                    end before giving up (default 30)
  --dry-run         say what would happen; write and delete nothing
  --json            print a JSON object describing the result instead of the path
  -q, --quiet       print no notes, only warnings and errors
  -v, --verbose     say more about what happens

Scheduling options (jobs run with at(1); see 'tinybackup doctor'):
  --every DURATION  back up now, then every 30m, 6h, 1d, 1w, 1h30m ...
  --at HH:MM        with --every: at this local time (daily, weekly: same weekday)
  --time SPEC       any at(1) time spec, applied again after each run
  --schedule-only   queue the job without backing up now (prints the job id)
  --runs N          stop after N scheduled runs
  --stop-if-missing stop the job, instead of failing each time, once the file is gone
  The source, --name, the --keep options and --compress are kept in the job; --stdin
  cannot be scheduled (schedule the command instead, with --command).

DIR is a local folder, or sftp://[USER@]HOST[:PORT]/PATH (PATH absolute; /~/PATH in the
login's home) for a folder on another host, reached through the system ssh, or
s3://BUCKET[/PREFIX] for S3-compatible storage (keys, region and endpoint as the AWS
CLI finds them: AWS_ACCESS_KEY_ID..., AWS_PROFILE, ~/.aws, AWS_ENDPOINT_URL), or
ftps://[USER@]HOST[:PORT]/PATH (explicit TLS; ftp:// without) with the password in
~/.netrc.

Prints the new backup's path on stdout. Exit codes: 0 success (also when the
content was unchanged), 1 the run failed, 2 bad usage or bad input.
`;

const TEXTS: Record<CommandName, string> = {
  backup: MAIN,
  list: `Usage: tinybackup list --dest DIR [--file PATH | --name NAME] [--json]

Lists the backups in DIR (a folder, or an sftp://, s3:// or ftp(s):// URL), newest first: time,
original size, compression, path.
  --file PATH   only the backups of this file (or SQLite database)
  --name NAME   only the series NAME
  --ssh-config FILE   ssh's config file for an sftp:// DIR (ssh -F)
  --json        a JSON array with path, name, generation, time, size, storedSize, sha256,
                compression, encrypted, source, sourceKind (file, folder, sqlite, postgres,
                mysql, command, stdin, or sealed: encrypted with the rest), command (for a command), host (for a source on
                another host), changedWhileRead and madeOn (the host name of the machine
                that made it) for each backup
`,
  restore: `Usage: tinybackup restore BACKUP [--to PATH | --to -] [--force]

Decompresses BACKUP, checks it against its sha256, and writes it to PATH (a
file, or a folder to put it in under its series name; default: the current
folder). Nothing is left at PATH if the check fails. BACKUP is a path, or the
sftp://, s3:// or ftp(s):// URL list prints for it.
  --to -    write the content to stdout
  --force   replace PATH if it exists
  --ssh-config FILE   ssh's config file for an sftp:// BACKUP (ssh -F)
  -i, --identity FILE   for an encrypted (.age) BACKUP: an age identity file
                (tinybackup key generate, age-keygen); may be repeated
  --passphrase-file FILE, --passphrase-command CMD   ...or its passphrase
A file restored from an encrypted backup appears only once the backup's last
chunk authenticates; with --to -, a tampered backup stops the output with exit 1.
`,
  verify: `Usage: tinybackup verify --dest DIR [--file PATH | --name NAME] [--json]

Decompresses and hashes every backup in DIR and compares it with its metadata.
Prints "ok" or "bad" and the path for each; exits 1 if any is bad. Files that
look like backups but have no valid metadata count as bad. DIR is a folder,
or an sftp://, s3:// or ftp(s):// URL.
  --json   a JSON array: each backup with ok (true or false) and problem
  --ssh-config FILE   ssh's config file for an sftp:// DIR (ssh -F)
  -i, --identity FILE   decrypt encrypted (.age) backups with this age identity
                (may be repeated) and check their content; without it, only
                their stored bytes are checked (size and stored sha256)
  --passphrase-file FILE, --passphrase-command CMD   ...or with their passphrase
`,
  jobs: `Usage: tinybackup jobs [--json]

Lists every tinybackup job in the at(1) queue: id, schedule, next run, last
result, file and destination, and anything that will make the next run fail.
  --json   a JSON array: id, name, file, dest, schedule, next, atJob, runsLeft,
           stopIfMissing, keep, compression, lastRun (null or time, result,
           message) and problems
`,
  unschedule:
    `Usage: tinybackup unschedule ID... | --file PATH --dest DIR | --name NAME --dest DIR | --all [--dry-run]

Removes scheduled jobs and prints the id of each. A run executing at that
moment does not queue itself again.
  --file PATH --dest DIR   the jobs that back up PATH to DIR
  --name NAME --dest DIR   the jobs of series NAME in DIR, whatever their source
                           (a command, a folder, a database: the name 'list' shows)
  --all                    every tinybackup job
  --dry-run                print what would be removed; remove nothing
`,
  doctor: `Usage: tinybackup doctor

Checks that scheduled jobs can run here: at(1) installed, its daemon running,
this user allowed to use it, the run log writable, and every queued job's
program and file still there. Says how to fix each problem. Exits 0 when
scheduling will work, 1 otherwise.
`,
  log: `Usage: tinybackup log [ID] [--json]

The history of scheduled runs, oldest first: time, job id, result (ok,
unchanged, failed, stopped, cancelled) and what happened.
  --json   a JSON array of runs: time, id, result, message, path, nextAtJob
`,
  run: `Usage: tinybackup run [--config FILE] [--dry-run] [--force] [-q | -v] [NAME...]

Runs every backup of the config file, or the named ones, one after another, each
to all its destinations; prints the path of each backup made (or found unchanged)
and a summary line per backup on stderr. The default file is
$XDG_CONFIG_HOME/tinybackup/config.toml, else ~/.config/tinybackup/config.toml;
see 'tinybackup config --help' for its keys. Exit codes: 0 every backup done,
1 a backup failed (the others still ran), 2 a problem in the file or bad input.
  --config FILE   another config file
  --dry-run       say what would happen; write and delete nothing
  --force         back up even when the content equals the newest backup
  -q, --quiet     print no notes, only warnings and errors
  -v, --verbose   say more about what happens
`,
  schedule: `Usage: tinybackup schedule [--config FILE] [--dry-run]

Queues an at(1) job for each backup of the config file that has a schedule, with
an id that stays the same for that file and backup; a job already queued with the
same schedule is kept, one whose schedule changed is replaced, and the jobs of
backups no longer in the file (or no longer scheduled) are removed. Prints each
queued job's id. Each run reads the file again, so an edit takes effect at the
next run. Scheduled runs see only the variables at(1) jobs keep (PATH, HOME, TZ,
AWS_PROFILE...; see README): a \${VAR} they would not have is refused here.
  --dry-run   say what would be queued and removed; change nothing
`,
  config: `Usage: tinybackup config validate|show|init [--config FILE]

  validate   check the file; list every problem (with line and column, or the key)
  show       print the settings each backup runs with, [defaults] applied and
             \${VAR} filled in, secrets masked
  init       write a commented example file; never overwrites one

The file (TOML):
  [defaults]             any key of a backup but its source and name
  [backup.NAME]          one backup; NAME is letters, digits, _ . -
    file | folder | sqlite | postgres | mysql | command = "..."   the source (one)
    dest = "DIR" or ["DIR", "s3://...", ...]   the source is read once, stored in each
    name, ssh, ssh_config, exclude = [...], split, exclude_db = [...], ok_exit = [1],
    compress, allow_changing, allow_empty, lock_wait   as the options of the same name
    recipients = ["age1...", ...], recipients_file, identity_file (encrypt to its
               public key), passphrase_file, passphrase_command   as --recipient,
               --recipients-file, --identity, --passphrase-file, --passphrase-command
    retention = { last = N, hourly = N, daily = N, weekly = N, monthly = N,
                  yearly = N, within = "1y" }          as --keep, --keep-daily ...
    schedule = { every = "1d", at = "02:00" } or { time = "SPEC" }, with
               runs = N, stop_if_missing = true      as --every, --at, --time ...
    ping_url = "https://hc-ping.com/UUID" (or ping_url_file = "FILE", or
               ping_url_command = "CMD": the first line it prints, at each run)
               start, success and /fail pings; a failed ping never fails a backup;
               ping_timeout = 10 (seconds per try, 3 tries)
    on_failure = ["notify-send", "backup failed"]    run with TINYBACKUP_BACKUP
               and TINYBACKUP_ERROR set when the backup fails
  Strings may hold \${VAR} and \${VAR:-default}; $\${ is a literal \${. Paths may start
  with ~; relative paths are relative to the file's folder.
`,
  key: `Usage: tinybackup key generate [--output FILE]

Makes a new age key pair. The secret key (the identity) is written to FILE, made
new and private (never over an existing file), or to stdout, made private when it
is a file; the public key (the recipient, age1...) is printed on stderr. The
identity is age-keygen's format: age -d -i FILE decrypts the backups too.

Encrypt backups to the public key (--recipient age1...) and keep the identity
away from them: whoever holds it reads every backup, and a lost identity is every
backup made for it lost. Give a second --recipient whose identity is kept offline
(printed, or on a drive in a drawer) so that one lost key loses nothing.
  -o, --output FILE   write the identity to FILE instead of stdout
`,
  "run-job": `Usage: tinybackup run-job JOB

Runs one scheduled job. at(1) jobs call this; there is no need to call it by hand.
`,
  prune: `Usage: tinybackup prune --dest DIR (--file PATH | --name NAME) RULES [--dry-run]

Applies a retention policy to one series now, removes what it does not keep,
and prints the path of each removed backup. RULES, as for a backup:
  --keep N            the newest backup of each of the N newest versions (contents);
                      0 keeps all
  --keep-hourly N, --keep-daily N, --keep-weekly N, --keep-monthly N, --keep-yearly N
                      the newest backup of each of the last N hours, days, ISO weeks,
                      months or years that have backups (local time, as restic's forget;
                      the oldest backup is kept too while a rule has count left)
  --keep-within SPAN  every backup taken within SPAN of the newest: 1y6m, 30d, 2w, 36h
                      (m is months, as in restic)
A backup is kept when any rule keeps it.
  --dry-run   print what would be removed, and on stderr why each other backup stays;
              remove nothing
  --json      a JSON array of the removed backups
  --ssh-config FILE   ssh's config file for an sftp:// DIR (ssh -F)
`,
};

export function helpFor(command: CommandName): string {
  return TEXTS[command];
}
