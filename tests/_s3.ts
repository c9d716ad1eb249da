/**
 * An S3 server for tests: moto_server (moto's S3, in memory) on 127.0.0.1
 * and a free high port, with one bucket. moto speaks S3's REST protocol,
 * conditional writes and multipart uploads included, but it is an
 * emulator: no Debian or npm package ships MinIO, Garage or a radosgw that
 * comes up on one node in CI time. What tinybackup stored is read back with
 * rclone, as a user would. Stopped by `await using`.
 */
import { join } from "node:path";
import { AwsClient } from "aws4fetch";
import { programs, type Requirement, requirement } from "./_requires.ts";

/** What the S3 tests need: moto_server (pip install 'moto[server]') and rclone. */
export const S3_REQUIREMENT: Requirement = requirement(async () => {
  const unmet = await programs("rclone").unmet();
  if (unmet) return unmet;
  const found = await new Deno.Command("/bin/sh", {
    args: ["-c", "command -v moto_server"],
    stdout: "null",
  }).output();
  return found.success ? undefined : "moto_server not found on PATH (pip install 'moto[server]')";
});

const KEY = "tbtestkey";
const SECRET = "tbtestsecret";

export interface S3Server extends AsyncDisposable {
  endpoint: string;
  bucket: string;
  /**
   * What a user of this server sets: keys, endpoint and region, and the AWS
   * files pointed at a folder of the test's (none there), so the tester's
   * own ~/.aws is never read.
   */
  env: Record<string, string>;
  /** The folder the AWS files point into: write `credentials` there to use it. */
  awsDir: string;
  /** The environment that sets up rclone's remote `s3:` for this server. */
  rcloneEnv: Record<string, string>;
  /** Runs rclone with the remote `s3:` set up for this server; its stdout. */
  rclone(args: string[]): Promise<Uint8Array>;
  /** Every key of the bucket, sorted. */
  keys(): Promise<string[]>;
  /** Keys of unfinished multipart uploads. */
  uploads(): Promise<string[]>;
  /** Kills the server at once (SIGKILL), as a crash or a dropped network would end it. */
  kill(): Promise<void>;
}

export async function startS3(): Promise<S3Server> {
  const awsDir = await Deno.makeTempDir({ prefix: "tinybackup-aws-" });
  for (let attempt = 0;; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const server = new Deno.Command("moto_server", {
      args: ["-H", "127.0.0.1", "-p", String(port)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const endpoint = `http://127.0.0.1:${port}`;
    const aws = new AwsClient({
      accessKeyId: KEY,
      secretAccessKey: SECRET,
      service: "s3",
      region: "us-east-1",
      retries: 0,
    });
    const stop = async () => {
      try {
        server.kill("SIGTERM");
      } catch {
        // It ended already.
      }
      await server.status;
    };
    if (await answers(endpoint, server)) {
      const bucket = "tinybackup-test";
      const made = await aws.fetch(`${endpoint}/${bucket}`, { method: "PUT" });
      await made.body?.cancel();
      if (!made.ok) throw new Error(`moto did not make the bucket: ${made.status}`);
      const rcloneEnv = {
        RCLONE_CONFIG: join(awsDir, "rclone.conf"),
        RCLONE_CONFIG_S3_TYPE: "s3",
        RCLONE_CONFIG_S3_PROVIDER: "Other",
        RCLONE_CONFIG_S3_ENDPOINT: endpoint,
        RCLONE_CONFIG_S3_ACCESS_KEY_ID: KEY,
        RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: SECRET,
        RCLONE_CONFIG_S3_REGION: "us-east-1",
      };
      const listing = async (query: string, tag: string) => {
        const response = await aws.fetch(`${endpoint}/${bucket}?${query}`);
        const xml = await response.text();
        return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1])
          .sort();
      };
      return {
        endpoint,
        bucket,
        awsDir,
        rcloneEnv,
        env: {
          AWS_ACCESS_KEY_ID: KEY,
          AWS_SECRET_ACCESS_KEY: SECRET,
          AWS_ENDPOINT_URL: endpoint,
          AWS_REGION: "us-east-1",
          AWS_SHARED_CREDENTIALS_FILE: join(awsDir, "credentials"),
          AWS_CONFIG_FILE: join(awsDir, "config"),
        },
        async rclone(args) {
          const out = await new Deno.Command("rclone", {
            args,
            // Only this remote's settings: AWS_CA_BUNDLE and the like would change what it trusts.
            clearEnv: true,
            env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...rcloneEnv },
            stdout: "piped",
            stderr: "piped",
          }).output();
          if (!out.success) {
            throw new Error(`rclone ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
          }
          return out.stdout;
        },
        keys: () => listing("list-type=2&max-keys=1000", "Key"),
        async kill() {
          try {
            server.kill("SIGKILL");
          } catch {
            // It ended already.
          }
          await server.status;
        },
        uploads: () => listing("uploads", "Key"),
        async [Symbol.asyncDispose]() {
          await stop();
          await Deno.remove(awsDir, { recursive: true });
        },
      };
    }
    await stop();
    if (attempt === 9) throw new Error("moto_server did not start");
  }
}

/** Waits until the server answers HTTP; false if it ended first (its port was taken). */
async function answers(endpoint: string, server: Deno.ChildProcess): Promise<boolean> {
  let ended = false;
  server.status.then(() => ended = true);
  for (let i = 0; i < 300 && !ended; i++) {
    try {
      const response = await fetch(endpoint);
      await response.body?.cancel();
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return false;
}
