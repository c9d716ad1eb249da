/**
 * `--dest s3://BUCKET/PREFIX`, end to end against an S3 server started for
 * the tests on 127.0.0.1 (tests/_s3.ts: moto_server), with what tinybackup
 * stored read back through rclone: the contract of a destination (backup,
 * unchanged, rotation, list, verify, restore, prune, --json, a scheduled
 * run), a large backup in parts, a killed upload, refusals (no bucket, no
 * keys, no server) and hostile names.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { emptyQueue, jobScript, queued, runScript, takeJob } from "../_at_queue.ts";
import { needs, programs, ROOT } from "../_requires.ts";
import { S3_REQUIREMENT, type S3Server, startS3 } from "../_s3.ts";
import { commandLine, run, sameBytes, tempDir, tinybackup } from "./_cli.ts";

const TESTS = "cli/s3_store_test.ts";
const withS3 = await needs(TESTS, S3_REQUIREMENT, programs("gunzip"));
const withS3AndAt = await needs(
  `${TESTS}: a scheduled job`,
  S3_REQUIREMENT,
  programs("at", "atq", "atrm", "gunzip"),
);
// Another machine is played by a UTS namespace with its own host name (root only).
const withS3AndUnshare = await needs(
  `${TESTS}: several hosts`,
  S3_REQUIREMENT,
  ROOT,
  programs("unshare", "gunzip"),
);
const test = (name: string, fn: () => Promise<void>, gate = withS3) => gate.test(`s3: ${name}`, fn);

/** The backups' objects under `prefix` (not the hidden folder's), by name. */
async function visibleObjects(s3: S3Server, prefix: string): Promise<string[]> {
  return (await s3.keys())
    .filter((key) => key.startsWith(`${prefix}/`) && !key.includes("/.tinybackup"))
    .map((key) => key.slice(prefix.length + 1));
}

/** The stored object of the backup at `url`, through rclone. */
function objectOf(s3: S3Server, url: string): Promise<Uint8Array> {
  return s3.rclone(["cat", `s3:${url.slice("s3://".length)}`]);
}

test("backup, unchanged, rotation, list, verify, restore and prune, as for a local folder", async () => {
  await using s3 = await startS3();
  await using dir = await tempDir();
  const env = s3.env;
  const dest = `s3://${s3.bucket}/host1`;
  const source = `${dir.path}/notes.txt`;
  await Deno.writeTextFile(source, "version 1\n");
  const first = await tinybackup(["--file", source, "--dest", dest, "--keep", "2"], { env });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`^${dest}/notes\\.txt\\.\\d{8}T\\d{6}Z\\.gz\\n$`));
  const gunzipped = await run("gunzip", ["-c"], await objectOf(s3, first.stdout.trimEnd()));
  assert.equal(new TextDecoder().decode(gunzipped), "version 1\n");

  const again = await tinybackup(["--file", source, "--dest", dest, "--keep", "2"], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, first.stdout);
  assert.match(again.stderr, /unchanged since/);

  const made = [first.stdout.trimEnd()];
  for (const version of [2, 3]) {
    await Deno.writeTextFile(source, `version ${version}\n`);
    const r = await tinybackup(
      ["--file", source, "--dest", dest, "--keep", "2", "--json"],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    made.push(result.path);
    if (version === 3) assert.deepEqual(result.removed, [made[0]], "the oldest rotated away");
  }
  assert.deepEqual(await visibleObjects(s3, "host1"), made.slice(1).map((m) => m.split("/").pop()));

  const listed = await tinybackup(["list", "--dest", dest, "--json"], { env });
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout).map((b: { path: string }) => b.path), [
    made[2],
    made[1],
  ]);
  const verified = await tinybackup(["verify", "--dest", dest], { env });
  assert.equal(verified.code, 0, verified.stderr);
  assert.equal(verified.stdout, `ok   ${made[2]}\nok   ${made[1]}\n`);

  const restored = await tinybackup(["restore", made[1], "--to", `${dir.path}/out.txt`], { env });
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(await Deno.readTextFile(`${dir.path}/out.txt`), "version 2\n");
  const piped = await tinybackup(["restore", made[2], "--to", "-"], { env });
  assert.equal(piped.stdout, "version 3\n");

  const pruned = await tinybackup(
    ["prune", "--dest", dest, "--name", "notes.txt", "--keep", "1"],
    { env },
  );
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.deepEqual(await visibleObjects(s3, "host1"), [made[2].split("/").pop()]);
  // Only the kept backup's metadata is left in the hidden folder; nothing staged, no probe.
  assert.deepEqual(
    (await s3.keys()).filter((key) => !key.endsWith(made[2].split("/").pop()!)),
    [`host1/.tinybackup/${made[2].split("/").pop()}.json`],
  );

  // A backup damaged in the bucket is found by verify.
  await Deno.writeFile(`${dir.path}/bad.gz`, new Uint8Array([0x1f, 0x8b, 0, 0]));
  await s3.rclone(["copyto", `${dir.path}/bad.gz`, `s3:${made[2].slice("s3://".length)}`]);
  const damaged = await tinybackup(["verify", "--dest", dest], { env });
  assert.equal(damaged.code, 1);
  assert.match(damaged.stdout, /^bad {2}/);
});

test("a backup larger than a part goes up in parts, unchanged, and restores byte for byte", async () => {
  await using s3 = await startS3();
  await using dir = await tempDir();
  const env = s3.env;
  // Odd characters in the key, as the server-side copy that publishes it names its source.
  const dest = `s3://${s3.bucket}/big +%ü`;
  const source = `${dir.path}/random.bin`;
  // Incompressible: the stored object is three parts of 5 MiB and a last one.
  const content = new Uint8Array(17 * 1024 * 1024);
  for (let at = 0; at < content.length; at += 65536) {
    crypto.getRandomValues(content.subarray(at, at + 65536));
  }
  await Deno.writeFile(source, content);
  const r = await tinybackup(["--file", source, "--dest", dest, "--compress", "none"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(sameBytes(await objectOf(s3, r.stdout.trimEnd()), content), "stored as sent");
  assert.deepEqual(await s3.uploads(), [], "no upload left unfinished");
  assert.deepEqual(await visibleObjects(s3, "big +%ü"), [r.stdout.trimEnd().split("/").pop()]);
  const out = `${dir.path}/out.bin`;
  const restored = await tinybackup(["restore", r.stdout.trimEnd(), "--to", out], { env });
  assert.equal(restored.code, 0, restored.stderr);
  assert.ok(sameBytes(await Deno.readFile(out), content));
  const verified = await tinybackup(["verify", "--dest", dest], { env });
  assert.equal(verified.code, 0, verified.stderr);
});

test("a killed upload leaves no visible object and loses no backup; the next run aborts it", async () => {
  await using s3 = await startS3();
  const env = s3.env;
  const dest = `s3://${s3.bucket}/h`;
  const first = await tinybackup(["--stdin", "--name", "pipe", "--dest", dest, "--keep", "1"], {
    env,
    stdin: "the old backup\n",
  });
  assert.equal(first.code, 0, first.stderr);

  // A pipe that gives 20 MiB, then nothing more: the run is killed mid-upload.
  const [program, ...args] = commandLine(
    ["--stdin", "--name", "pipe", "--dest", dest, "--keep", "1", "--compress", "none"],
  );
  const child = new Deno.Command(program, {
    args,
    env,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  const piece = new Uint8Array(1024 * 1024);
  for (let i = 0; i < 20; i++) {
    crypto.getRandomValues(piece.subarray(0, 65536));
    await writer.write(piece);
  }
  for (let i = 0; i < 200 && (await s3.uploads()).length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal((await s3.uploads()).length, 1, "an upload in progress");
  child.kill("SIGKILL");
  await child.status;
  await writer.abort().catch(() => {});

  const listed = await tinybackup(["list", "--dest", dest, "--json"], { env });
  assert.deepEqual(JSON.parse(listed.stdout).map((b: { path: string }) => b.path), [
    first.stdout.trimEnd(),
  ]);
  assert.deepEqual(await visibleObjects(s3, "h"), [first.stdout.trimEnd().split("/").pop()]);
  const next = await tinybackup(["--stdin", "--name", "pipe", "--dest", dest, "--keep", "1"], {
    env,
    stdin: "the new backup\n",
  });
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(await s3.uploads(), [], "the killed run's upload was aborted");
  assert.deepEqual(await visibleObjects(s3, "h"), [next.stdout.trimEnd().split("/").pop()]);
  assert.equal(
    new TextDecoder().decode(
      await run("gunzip", ["-c"], await objectOf(s3, next.stdout.trimEnd())),
    ),
    "the new backup\n",
  );
});

test("no bucket, no keys, a malformed key file or a bad URL: exit 2 and nothing written; no server: exit 1", async () => {
  await using s3 = await startS3();
  await using dir = await tempDir();
  const source = `${dir.path}/a.txt`;
  await Deno.writeTextFile(source, "a\n");
  const backup = (dest: string, env: Record<string, string>) =>
    tinybackup(["--file", source, "--dest", dest], { env });

  const noBucket = await backup("s3://no-such-bucket/x", s3.env);
  assert.equal(noBucket.code, 2);
  assert.equal(noBucket.stdout, "");
  assert.match(
    noBucket.stderr,
    /error: cannot list s3:\/\/no-such-bucket\/x: there is no bucket no-such-bucket at http:\/\/127\.0\.0\.1:\d+\n.*hint: create the bucket/,
  );

  const noKeys = await backup(`s3://${s3.bucket}/x`, {
    ...s3.env,
    AWS_ACCESS_KEY_ID: "",
    AWS_SECRET_ACCESS_KEY: "",
  });
  assert.equal(noKeys.code, 2);
  assert.match(noKeys.stderr, /error: no S3 credentials: .*\n.*hint: put aws_access_key_id/);

  // Keys in the credentials file, under the profile AWS_PROFILE names.
  await Deno.writeTextFile(
    join(s3.awsDir, "credentials"),
    "[default]\naws_access_key_id = wrong\n\n[backup]\naws_access_key_id = k\naws_secret_access_key = s\n",
  );
  const fromFile = await backup(`s3://${s3.bucket}/fromfile`, {
    ...s3.env,
    AWS_ACCESS_KEY_ID: "",
    AWS_SECRET_ACCESS_KEY: "",
    AWS_PROFILE: "backup",
  });
  assert.equal(fromFile.code, 0, fromFile.stderr);
  await Deno.writeTextFile(join(s3.awsDir, "config"), "[default]\nregion us-east-1\n");
  const malformed = await backup(`s3://${s3.bucket}/x`, s3.env);
  assert.equal(malformed.code, 2);
  assert.match(malformed.stderr, /error: .*config:2: not a \[section\] or a key = value line/);
  await Deno.remove(join(s3.awsDir, "config"));

  for (
    const [url, said] of [
      ["s3://Bad_Bucket/x", /'Bad_Bucket' is not a bucket name/],
      ["s3://key:secret@bucket/x", /has a key or a host in it/],
      [`s3://${s3.bucket}/a//b`, /an empty part, '\.' or '\.\.'/],
      [`s3://${s3.bucket}/a/../b`, /an empty part, '\.' or '\.\.'/],
    ] as const
  ) {
    const r = await backup(url, s3.env);
    assert.equal(r.code, 2, url);
    assert.match(r.stderr, said);
    assert.ok(!r.stderr.includes("secret"), "the URL's secret is not echoed");
  }
  assert.deepEqual(
    (await s3.keys()).filter((key) => !key.startsWith("fromfile/")),
    [],
    "nothing written",
  );

  const down = await backup("s3://b-ucket/x", {
    ...s3.env,
    AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  });
  assert.equal(down.code, 1);
  assert.match(
    down.stderr,
    /error: cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:9 \(bucket b-ucket\): .*4 tries/,
  );
});

test("hostile names: spaces, quotes, %, + and unicode in the prefix and the series", async () => {
  await using s3 = await startS3();
  const env = s3.env;
  const prefix = "we ird/p+a%20th ü";
  const dest = `s3://${s3.bucket}/${prefix}`;
  const r = await tinybackup(["--stdin", "--name", "n;`x`$(y) 100% +é", "--dest", dest], {
    env,
    stdin: "hostile\n",
  });
  assert.equal(r.code, 0, r.stderr);
  const url = r.stdout.trimEnd();
  assert.ok(url.startsWith(`${dest}/n;\`x\`$(y) 100% +é.`), url);
  assert.equal(
    new TextDecoder().decode(await run("gunzip", ["-c"], await objectOf(s3, url))),
    "hostile\n",
    "the printed URL is the object's key, as rclone and the AWS CLI take it",
  );
  const piped = await tinybackup(["restore", url, "--to", "-"], { env });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, "hostile\n");
  const verified = await tinybackup(["verify", "--dest", dest], { env });
  assert.equal(verified.code, 0, verified.stderr);
});

withS3AndAt.test("s3: a scheduled job keeps where the keys are, never the keys, and runs as atd runs it", async () => {
  const QUEUE = "s";
  await emptyQueue(QUEUE);
  await using s3 = await startS3();
  await using dir = await tempDir();
  const source = `${dir.path}/a.txt`;
  await Deno.writeTextFile(source, "scheduled\n");
  const dest = `s3://${s3.bucket}/jobs`;
  const env = { ...s3.env, TINYBACKUP_AT_QUEUE: QUEUE, XDG_STATE_HOME: `${dir.path}/state` };
  const schedule = ["--file", source, "--dest", dest, "--every", "1d", "--schedule-only"];
  try {
    // Keys only in the environment: a job would not have them.
    const refused = await tinybackup(schedule, { env });
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /error: a scheduled job would find no S3 keys: .*not kept in jobs/,
    );
    assert.deepEqual(await queued(QUEUE), []);

    await Deno.writeTextFile(
      join(s3.awsDir, "credentials"),
      `[default]\naws_access_key_id = ${s3.env.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${s3.env.AWS_SECRET_ACCESS_KEY}\n`,
      { mode: 0o600 },
    );
    const r = await tinybackup(schedule, { env });
    assert.equal(r.code, 0, r.stderr);
    const [atJob] = await queued(QUEUE);
    const script = new TextDecoder().decode(await jobScript(atJob));
    assert.ok(!script.includes(s3.env.AWS_SECRET_ACCESS_KEY), "the secret is not in the job");
    assert.match(script, /AWS_ENDPOINT_URL=/);
    const ran = await runScript(await takeJob(atJob));
    assert.equal(ran.code, 0, ran.stderr);
    const log = JSON.parse((await tinybackup(["log", "--json"], { env })).stdout);
    assert.equal(log[0].result, "ok", log[0].message);
    assert.ok(log[0].path.startsWith(`${dest}/a.txt.`), log[0].path);
    assert.equal(
      new TextDecoder().decode(await run("gunzip", ["-c"], await objectOf(s3, log[0].path))),
      "scheduled\n",
    );
    // The keys stop working: doctor says the job's destination will refuse the next run.
    await Deno.writeTextFile(join(s3.awsDir, "credentials"), "[default]\n");
    const doctor = await tinybackup(["doctor"], { env });
    assert.match(doctor.stdout, /its destination: no S3 credentials/);
  } finally {
    await emptyQueue(QUEUE);
  }
});

test(
  "several hosts, one prefix: a series of another host is refused, each rotates only its own, list shows all",
  async () => {
    await using s3 = await startS3();
    const env = s3.env;
    const dest = `s3://${s3.bucket}/shared`;
    const backup = (host: string, name: string, content: string) =>
      tinybackup(["--stdin", "--name", name, "--dest", dest, "--keep", "1"], {
        env,
        host,
        stdin: content,
      });
    const a1 = await backup("host-a", "db", "a1\n");
    assert.equal(a1.code, 0, a1.stderr);
    const b1 = await backup("host-b", "db", "b1\n");
    assert.equal(b1.code, 2);
    assert.equal(b1.stdout, "");
    assert.match(
      b1.stderr,
      /error: s3:\/\/tinybackup-test\/shared already holds backups named 'db' of the same source made on another machine \(host-a\)\n.*hint: pass --name/,
    );
    const b2 = await backup("host-b", "db-b", "b1\n");
    assert.equal(b2.code, 0, b2.stderr);
    const a2 = await backup("host-a", "db", "a2\n");
    assert.equal(a2.code, 0, a2.stderr);
    assert.deepEqual(a2.stdout === a1.stdout, false);

    const listed = JSON.parse(
      (await tinybackup(["list", "--dest", dest, "--json"], { env })).stdout,
    );
    assert.deepEqual(
      listed.map((b: { path: string; madeOn: string }) => [b.path, b.madeOn]).sort(),
      [[a2.stdout.trimEnd(), "host-a"], [b2.stdout.trimEnd(), "host-b"]].sort(),
      "host-a's rotation removed its own first backup only",
    );
    const restored = await tinybackup(["restore", b2.stdout.trimEnd(), "--to", "-"], { env });
    assert.equal(restored.stdout, "b1\n");
  },
  withS3AndUnshare,
);

test("metadata is read from one cached object, and a cache entry that does not match its metadata is not believed", async () => {
  await using s3 = await startS3();
  await using dir = await tempDir();
  const env = s3.env;
  const dest = `s3://${s3.bucket}/many`;
  const made: string[] = [];
  for (let batch = 0; batch < 9; batch++) {
    const runs = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        tinybackup(["--stdin", "--name", `s${batch * 4 + i}`, "--dest", dest], {
          env,
          stdin: `content ${batch * 4 + i}\n`,
        })
      ),
    );
    for (const r of runs) {
      assert.equal(r.code, 0, r.stderr);
      made.push(r.stdout.trimEnd());
    }
  }
  const cacheKey = "many/.tinybackup/cache/metadata.json";
  // Each run reads every metadata object: one that read 32 anew wrote the cache.
  assert.ok((await s3.keys()).includes(cacheKey), "the cache was written");
  const first = await tinybackup(["list", "--dest", dest, "--json"], { env });
  assert.equal(first.code, 0, first.stderr);
  const listed = JSON.parse(first.stdout);
  assert.deepEqual(listed.map((b: { path: string }) => b.path).sort(), made.sort());

  // A planted entry: another size for the first backup, under the right name.
  const cache = JSON.parse(
    new TextDecoder().decode(await s3.rclone(["cat", `s3:${s3.bucket}/${cacheKey}`])),
  );
  const [name, text] = cache[0];
  cache[0] = [name, text.replace(/"size": \d+/, '"size": 999999')];
  await Deno.writeTextFile(`${dir.path}/cache.json`, JSON.stringify(cache));
  await s3.rclone(["copyto", `${dir.path}/cache.json`, `s3:${s3.bucket}/${cacheKey}`]);
  const again = await tinybackup(["list", "--dest", dest, "--json"], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout), listed, "the planted size is not believed");
  const verified = await tinybackup(["verify", "--dest", dest], { env });
  assert.equal(verified.code, 0, verified.stderr);
  assert.equal(verified.stdout.split("\n").filter((line) => line.startsWith("ok ")).length, 36);
});

test("two runs of one series on one machine take turns: the second waits, then says who holds it", async () => {
  await using s3 = await startS3();
  await using dir = await tempDir();
  const env = { ...s3.env, XDG_STATE_HOME: dir.path };
  const dest = `s3://${s3.bucket}/turns`;
  // The first run holds the series while its pipe stays open.
  const [program, ...args] = commandLine(["--stdin", "--name", "pipe", "--dest", dest]);
  const first = new Deno.Command(program, {
    args,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = first.stdin.getWriter();
  await writer.write(new TextEncoder().encode("first\n"));
  // The lock is a file of this machine's state folder; its holder writes itself into it.
  const locks = join(dir.path, "tinybackup", "locks");
  const holder = async () => {
    const entries = await Array.fromAsync(Deno.readDir(locks)).catch(() => []);
    for (const entry of entries) {
      if ((await Deno.readTextFile(join(locks, entry.name))).trim()) return true;
    }
    return false;
  };
  for (let i = 0; i < 400 && !(await holder()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.ok(await holder(), "the first run holds the series");
  const second = await tinybackup(
    ["--stdin", "--name", "pipe", "--dest", dest, "--lock-wait", "1"],
    {
      env,
      stdin: "second\n",
    },
  );
  assert.equal(second.code, 1);
  assert.match(
    second.stderr,
    /another run of 'pipe' to s3:\/\/tinybackup-test\/turns has been running since .* \(pid \d+\); this run made no backup/,
  );
  await writer.close();
  const done = await first.output();
  assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
  assert.deepEqual(
    JSON.parse((await tinybackup(["list", "--dest", dest, "--json"], { env })).stdout).length,
    1,
  );
});

test("a server gone mid-upload fails the run with exit 1 after a few tries, saying so", async () => {
  await using s3 = await startS3();
  const env = s3.env;
  const dest = `s3://${s3.bucket}/gone`;
  const [program, ...args] = commandLine(
    ["--stdin", "--name", "pipe", "--dest", dest, "--compress", "none"],
  );
  const child = new Deno.Command(program, {
    args,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const piece = new Uint8Array(1024 * 1024);
  for (let i = 0; i < 20; i++) await writer.write(piece);
  for (let i = 0; i < 200 && (await s3.uploads()).length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal((await s3.uploads()).length, 1, "an upload in progress");
  await s3.kill();
  // What is still to come goes nowhere: the run fails on the parts it cannot send.
  for (let i = 0; i < 20; i++) await writer.write(piece).catch(() => {});
  await writer.close().catch(() => {});
  const out = await child.output();
  const said = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, said);
  assert.equal(new TextDecoder().decode(out.stdout), "");
  assert.match(
    said,
    /^tinybackup: error: cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:\d+ \(bucket tinybackup-test\): .*, 4 tries\n/,
  );
  assert.doesNotMatch(said, /Uncaught|\n\s+at /);
});
