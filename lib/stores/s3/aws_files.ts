/** The S3 settings of this user, read as the AWS CLI reads them (see aws_config.ts). */
import { join } from "node:path";
import { UsageError } from "../../errors.ts";
import { AwsConfigError, type AwsSettings, awsSettings } from "./aws_config.ts";

/**
 * The settings from `env` and the files it points to (or ~/.aws/credentials
 * and ~/.aws/config).
 * @throws {UsageError} when there are no keys, or a file is unreadable or malformed
 */
export async function awsSettingsHere(
  env: Record<string, string | undefined>,
): Promise<AwsSettings> {
  // Without a home, ~/.aws is nowhere (not the current folder).
  const inHome = (name: string) => env.HOME ? join(env.HOME, ".aws", name) : undefined;
  const credentials = await optionalFile(
    env.AWS_SHARED_CREDENTIALS_FILE || inHome("credentials"),
  );
  const config = await optionalFile(env.AWS_CONFIG_FILE || inHome("config"));
  try {
    return awsSettings({
      env,
      ...(credentials ? { credentialsFile: credentials } : {}),
      ...(config ? { configFile: config } : {}),
    });
  } catch (error) {
    if (error instanceof AwsConfigError) throw new UsageError(error.message, error.hint);
    throw error;
  }
}

/**
 * Checks that a scheduled job, which runs with `jobEnv` (no secrets: at(1)
 * keeps a job's environment in its spool), finds S3 keys at run time.
 * @throws {UsageError} when it would not
 */
export async function checkKeysForJobs(jobEnv: Record<string, string>): Promise<void> {
  try {
    await awsSettingsHere(jobEnv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(
      `a scheduled job would find no S3 keys: ${error.message}; AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are not kept in jobs (at(1) would keep them in its spool)`,
      error.hint,
    );
  }
}

/** The file at `path`, or undefined if there is none. */
async function optionalFile(
  path: string | undefined,
): Promise<{ path: string; text: string } | undefined> {
  if (path === undefined) return undefined;
  try {
    return { path, text: await Deno.readTextFile(path) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`cannot read ${path}: permission denied`);
    }
    throw error;
  }
}
