/**
 * Where an S3 destination's credentials, region and endpoint come from, as
 * the AWS CLI finds them: the environment first (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL...),
 * then the profile (AWS_PROFILE, else "default") in ~/.aws/credentials and
 * ~/.aws/config. Pure: the caller reads the environment and the files.
 */

export interface AwsSettings {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
  /** A custom endpoint (any S3-compatible store), without a trailing slash; undefined for AWS. */
  endpoint?: string;
  /** Where the keys were found, for messages: "the environment" or a file. */
  keysFrom: string;
}

/** What the settings are read from. */
export interface AwsInputs {
  env: Record<string, string | undefined>;
  /** ~/.aws/credentials (or AWS_SHARED_CREDENTIALS_FILE): its path and text, if it exists. */
  credentialsFile?: { path: string; text: string };
  /** ~/.aws/config (or AWS_CONFIG_FILE): its path and text, if it exists. */
  configFile?: { path: string; text: string };
}

/** Why no settings could be made, with a hint. */
export class AwsConfigError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

const DEFAULT_REGION = "us-east-1";

/**
 * The settings for S3.
 * @throws {AwsConfigError} when no keys are found, or a file is malformed
 */
export function awsSettings(inputs: AwsInputs): AwsSettings {
  const { env } = inputs;
  const profile = nonEmpty(env.AWS_PROFILE) ?? nonEmpty(env.AWS_DEFAULT_PROFILE) ?? "default";
  const credentials = inputs.credentialsFile
    ? sectionOf(inputs.credentialsFile, profile)
    : undefined;
  // The config file names a profile's section "profile NAME"; "default" may go without.
  const config = inputs.configFile
    ? sectionOf(inputs.configFile, `profile ${profile}`) ??
      (profile === "default" ? sectionOf(inputs.configFile, "default") : undefined)
    : undefined;
  const region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ??
    config?.values.region ?? DEFAULT_REGION;
  const endpoint = nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL) ??
    config?.values.endpoint_url;
  if (endpoint !== undefined && /^[a-z]+:\/\/[^/]*@/i.test(endpoint)) {
    throw new AwsConfigError(
      "the S3 endpoint has a user or a password in it; keys go in ~/.aws/credentials",
      "set AWS_ENDPOINT_URL to the store's URL alone, e.g. https://s3.example.com",
    );
  }
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/i.test(endpoint)) {
    throw new AwsConfigError(
      `the S3 endpoint '${endpoint}' is not an http:// or https:// URL`,
      "set AWS_ENDPOINT_URL to the store's URL, e.g. https://s3.example.com",
    );
  }
  const base = {
    region,
    ...(endpoint === undefined ? {} : { endpoint: endpoint.replace(/\/+$/, "") }),
  };
  const envKey = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const envSecret = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if ((envKey === undefined) !== (envSecret === undefined)) {
    // As the AWS CLI: half a key in the environment is an error, not a reason to look elsewhere.
    throw new AwsConfigError(
      `${envKey === undefined ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID"} is set but ${
        envKey === undefined ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"
      } is not`,
      "set both, or unset both to use ~/.aws/credentials",
    );
  }
  if (envKey !== undefined && envSecret !== undefined) {
    const token = nonEmpty(env.AWS_SESSION_TOKEN);
    return {
      accessKeyId: envKey,
      secretAccessKey: envSecret,
      ...(token === undefined ? {} : { sessionToken: token }),
      ...base,
      keysFrom: "the environment",
    };
  }
  for (const section of [credentials, config]) {
    const key = section?.values.aws_access_key_id;
    const secret = section?.values.aws_secret_access_key;
    if (section && key !== undefined && secret !== undefined) {
      const token = section.values.aws_session_token;
      return {
        accessKeyId: key,
        secretAccessKey: secret,
        ...(token === undefined ? {} : { sessionToken: token }),
        ...base,
        keysFrom: section.path,
      };
    }
  }
  const unsupported = [
    "role_arn",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
  ]
    .find((key) => credentials?.values[key] !== undefined || config?.values[key] !== undefined);
  if (unsupported) {
    throw new AwsConfigError(
      `profile '${profile}' gets its keys through ${unsupported}, which tinybackup does not support`,
      "give the profile aws_access_key_id and aws_secret_access_key of its own (an IAM user's keys, limited to the bucket)",
    );
  }
  throw new AwsConfigError(
    `no S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, and profile '${profile}' has no keys in ${
      inputs.credentialsFile?.path ?? "~/.aws/credentials"
    }`,
    "put aws_access_key_id and aws_secret_access_key under [" + profile +
      "] in ~/.aws/credentials (chmod 600), or set AWS_PROFILE",
  );
}

/** One [section] of an INI file, by name; undefined when it has none. */
function sectionOf(
  file: { path: string; text: string },
  name: string,
): { path: string; values: Record<string, string> } | undefined {
  const sections = parseIni(file.text, file.path);
  const values = sections.get(name);
  return values ? { path: file.path, values } : undefined;
}

/**
 * The sections of an AWS-style INI file: `[name]` lines, then `key = value`
 * lines; `#` and `;` start comments. Indented lines continue a nested value
 * (as `s3 =` blocks), which is skipped.
 */
export function parseIni(text: string, path: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
    if (/^\s/.test(line) && current) continue; // part of a nested block
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(trimmed);
    if (header) {
      current = sections.get(header[1]) ?? {};
      sections.set(header[1], current);
      continue;
    }
    const pair = /^([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(trimmed);
    if (!pair || !current) {
      throw new AwsConfigError(
        `${path}:${i + 1}: not a [section] or a key = value line`,
        "see https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html",
      );
    }
    current[pair[1].toLowerCase()] = pair[2].trim();
  }
  return sections;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
