/** What `tinybackup config init` writes: every kind of key, explained where it is used. */
export const EXAMPLE_CONFIG =
  `# tinybackup's config file: what to back up, where to, how long to keep it,
# and when. Check it with 'tinybackup config validate', see what each backup
# runs with in 'tinybackup config show', run it with 'tinybackup run', and
# queue its schedules with 'tinybackup schedule'. Every key is the option of
# the same name ('tinybackup --help'); see 'tinybackup config --help'.

# Settings every backup gets unless it says otherwise (a table such as
# retention is replaced whole, not merged).
[defaults]
# One destination, or several: the source is read once and stored in each.
dest = "~/backups"
# dest = ["~/backups", "s3://my-bucket/host1", "sftp://backup@nas.local/srv/backups"]
compress = "zstd"
# The newest backup of each of the last 7 days, 4 ISO weeks and 12 months
# that have backups (local time), and the 3 newest versions.
retention = { last = 3, daily = 7, weekly = 4, monthly = 12 }
# Start, success and failure pings, in the manner of healthchecks.io; keep
# the URL's secret in a file (ping_url_file = "~/.config/tinybackup/ping-url")
# or a command that prints it (ping_url_command = "pass show hc-ping").
# ping_url = "https://hc-ping.com/\${HC_UUID}"
# Encrypt with age (tinybackup key generate; age -d undoes it). Keep a second
# key offline: a lost key is every backup made for it lost.
# recipients = ["age1...", "age1...spare"]

# One backup: its name here is what 'tinybackup run NAME' takes.
[backup.notes]
file = "~/notes.txt"
schedule = { every = "1d", at = "02:00" }

# [backup.app-db]
# postgres = "app"                # credentials from ~/.pgpass, as psql finds them
# schedule = { every = "6h" }
# on_failure = ["notify-send", "tinybackup: app-db failed"]

# [backup.photos]
# folder = "~/photos"
# exclude = ["*.tmp", "cache/"]
# split = true                    # one series per top-level entry
# schedule = { every = "1w" }
# retention = { last = 2, monthly = 6 }

# [backup.site]
# ssh = "deploy@web1.example.com" # the source on another host, through ssh
# folder = "/srv/site"
# dest = "s3://my-bucket/web1"
`;
