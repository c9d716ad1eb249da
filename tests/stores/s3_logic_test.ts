/** The pure parts of the S3 store: its URLs, where its settings come from, S3's XML, part sizes. */
import assert from "node:assert/strict";
import { UsageError } from "../../lib/errors.ts";
import { AwsConfigError, awsSettings, parseIni } from "../../lib/stores/s3/aws_config.ts";
import { partSize } from "../../lib/stores/s3/s3_store.ts";
import { isS3Url, parseS3Url } from "../../lib/stores/s3/s3_url.ts";
import { completeBody, parseListPage, parseUploadsPage, text } from "../../lib/stores/s3/s3_xml.ts";

Deno.test("parseS3Url: a bucket, a prefix, trailing slashes", () => {
  assert.ok(isS3Url("S3://b"));
  assert.ok(!isS3Url("/s3://b"));
  assert.deepEqual(parseS3Url("s3://my-bucket/host1/"), {
    bucket: "my-bucket",
    prefix: "host1",
    location: "s3://my-bucket/host1",
  });
  assert.deepEqual(parseS3Url("s3://my.bucket"), {
    bucket: "my.bucket",
    prefix: "",
    location: "s3://my.bucket",
  });
  assert.equal(parseS3Url("s3://b-1/a b/ü+%").prefix, "a b/ü+%", "keys are taken as they are");
});

Deno.test("parseS3Url: what it refuses, as bad input", () => {
  for (
    const url of [
      "s3://",
      "s3://ab",
      "s3://UPPER",
      "s3://under_score",
      "s3://-dash",
      "s3://a..b",
      "s3://key:secret@bucket/x",
      "s3://bucket/a//b",
      "s3://bucket//a",
      "s3://bucket/./a",
      "s3://bucket/a/..",
      "s3://bucket/a\nb",
    ]
  ) {
    assert.throws(() => parseS3Url(url), UsageError, url);
  }
  assert.throws(() => parseS3Url("s3://key:secret@bucket/x"), (error: Error) => {
    return !error.message.includes("secret@");
  });
});

const CREDENTIALS = `# keys
[default]
aws_access_key_id = DEFAULTKEY
aws_secret_access_key = defaultsecret

[backup]
aws_access_key_id=BACKUPKEY
aws_secret_access_key=backupsecret
aws_session_token = token
`;

const CONFIG = `[default]
region = eu-west-1
s3 =
  addressing_style = path

[profile backup]
region = eu-central-1
endpoint_url = https://s3.example.com/
`;

const files = {
  credentialsFile: { path: "/h/.aws/credentials", text: CREDENTIALS },
  configFile: { path: "/h/.aws/config", text: CONFIG },
};

Deno.test("awsSettings: the environment first, then the profile's files, as the AWS CLI", () => {
  assert.deepEqual(awsSettings({ env: {}, ...files }), {
    accessKeyId: "DEFAULTKEY",
    secretAccessKey: "defaultsecret",
    region: "eu-west-1",
    keysFrom: "/h/.aws/credentials",
  });
  assert.deepEqual(awsSettings({ env: { AWS_PROFILE: "backup" }, ...files }), {
    accessKeyId: "BACKUPKEY",
    secretAccessKey: "backupsecret",
    sessionToken: "token",
    region: "eu-central-1",
    endpoint: "https://s3.example.com",
    keysFrom: "/h/.aws/credentials",
  });
  assert.deepEqual(
    awsSettings({
      env: {
        AWS_ACCESS_KEY_ID: "ENVKEY",
        AWS_SECRET_ACCESS_KEY: "envsecret",
        AWS_REGION: "us-west-2",
        AWS_DEFAULT_REGION: "ignored",
        AWS_ENDPOINT_URL: "http://127.0.0.1:9000",
        AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9001",
      },
      ...files,
    }),
    {
      accessKeyId: "ENVKEY",
      secretAccessKey: "envsecret",
      region: "us-west-2",
      endpoint: "http://127.0.0.1:9001",
      keysFrom: "the environment",
    },
  );
  // Keys may be in the config file too; empty variables count as unset.
  assert.equal(
    awsSettings({
      env: { AWS_ACCESS_KEY_ID: "", AWS_REGION: "" },
      configFile: { path: "c", text: "[default]\naws_access_key_id=K\naws_secret_access_key=S\n" },
    }).accessKeyId,
    "K",
  );
  assert.equal(
    awsSettings({ env: { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" } }).region,
    "us-east-1",
  );
  // "[profile default]" is the default profile too.
  assert.equal(
    awsSettings({
      env: { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" },
      configFile: { path: "c", text: "[profile default]\nregion = ap-south-1\n" },
    }).region,
    "ap-south-1",
  );
});

Deno.test("awsSettings: no keys, a half key or a bad endpoint is an error with a hint", () => {
  for (
    const inputs of [
      { env: {} },
      { env: { AWS_ACCESS_KEY_ID: "only-the-id" }, ...files },
      { env: { AWS_SECRET_ACCESS_KEY: "only-the-secret" }, ...files },
      {
        env: { AWS_PROFILE: "sso" },
        configFile: { path: "c", text: "[profile sso]\nsso_session = x\n" },
      },
      {
        env: {
          AWS_ACCESS_KEY_ID: "a",
          AWS_SECRET_ACCESS_KEY: "b",
          AWS_ENDPOINT_URL: "https://u:p@h",
        },
      },
      { env: { AWS_PROFILE: "missing" }, ...files },
      { env: { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b", AWS_ENDPOINT_URL: "s3.x" } },
    ]
  ) {
    assert.throws(() => awsSettings(inputs), (error: Error) => {
      return error instanceof AwsConfigError && error.hint !== undefined;
    });
  }
  assert.throws(
    () => awsSettings({ env: { AWS_PROFILE: "missing" }, ...files }),
    /profile 'missing' has no keys in \/h\/\.aws\/credentials/,
  );
  assert.throws(
    () => awsSettings({ env: { AWS_ACCESS_KEY_ID: "only-the-id" }, ...files }),
    /^Error: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not/,
    "half a key in the environment does not fall back to the files",
  );
  assert.throws(
    () =>
      awsSettings({
        env: { AWS_PROFILE: "sso" },
        configFile: { path: "c", text: "[profile sso]\nsso_session = x\n" },
      }),
    /profile 'sso' gets its keys through sso_session, which tinybackup does not support/,
  );
  assert.throws(
    () =>
      awsSettings({
        env: {
          AWS_ACCESS_KEY_ID: "a",
          AWS_SECRET_ACCESS_KEY: "b",
          AWS_ENDPOINT_URL: "https://u:p@h",
        },
      }),
    (error: Error) => /a user or a password/.test(error.message) && !error.message.includes("u:p"),
  );
});

Deno.test("parseIni: sections, comments, nested blocks; a stray line names its file and line", () => {
  const sections = parseIni(CONFIG, "config");
  assert.deepEqual(sections.get("default"), { region: "eu-west-1", s3: "" });
  assert.equal(sections.get("profile backup")?.endpoint_url, "https://s3.example.com/");
  assert.throws(() => parseIni("[a]\nx = 1\nnot a pair\n", "/h/c"), /^Error: \/h\/c:3: /);
  assert.throws(() => parseIni("key = before any section\n", "f"), /f:1:/);
});

Deno.test("S3 XML: listings, pages, errors, entities", () => {
  const page = parseListPage(
    `<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1</NextContinuationToken>` +
      `<Contents><Key>h/a &amp; b</Key><LastModified>2026-12-04T01:55:09.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>5</Size></Contents>` +
      `<Contents><Key>h/c</Key><LastModified>2026-12-04T01:55:10.000Z</LastModified><Size>7</Size></Contents>` +
      `</ListBucketResult>`,
  );
  assert.deepEqual(page, {
    objects: [
      {
        key: "h/a & b",
        size: 5,
        etag: '"abc"',
        lastModified: Date.UTC(2026, 11, 4, 1, 55, 9) / 1000,
      },
      { key: "h/c", size: 7, etag: "", lastModified: Date.UTC(2026, 11, 4, 1, 55, 10) / 1000 },
    ],
    next: "t&1",
  });
  assert.deepEqual(
    parseListPage("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"),
    { objects: [] },
  );
  const uploads = parseUploadsPage(
    `<ListMultipartUploadsResult><IsTruncated>true</IsTruncated><NextKeyMarker>k</NextKeyMarker>` +
      `<NextUploadIdMarker>u</NextUploadIdMarker><Upload><Key>h/.tinybackup/tmp/x</Key>` +
      `<UploadId>id1</UploadId><Initiated>2026-12-04T00:00:00Z</Initiated></Upload></ListMultipartUploadsResult>`,
  );
  assert.deepEqual(uploads, {
    uploads: [{
      key: "h/.tinybackup/tmp/x",
      uploadId: "id1",
      initiated: Date.UTC(2026, 11, 4) / 1000,
    }],
    next: { keyMarker: "k", uploadIdMarker: "u" },
  });
  // A truncated page that says not where to go on would be listed again forever.
  assert.throws(() => parseListPage("<r><IsTruncated>true</IsTruncated></r>"), /continuation/);
  assert.throws(() => parseUploadsPage("<r><IsTruncated>true</IsTruncated></r>"), /next marker/);
  assert.equal(text("<Error><Code>NoSuchBucket</Code></Error>", "Code"), "NoSuchBucket");
  assert.equal(text("<a>&#60;&#x3e;&quot;&apos;</a>", "a"), `<>"'`);
  assert.equal(
    completeBody(['"e1"', '"e&2"']),
    "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag></Part>" +
      "<Part><PartNumber>2</PartNumber><ETag>&quot;e&amp;2&quot;</ETag></Part></CompleteMultipartUpload>",
  );
});

Deno.test("partSize: 5 MiB (S3's least) for the first 2,000 parts, one more 5 MiB each next thousand", () => {
  const MiB = 1024 * 1024;
  assert.equal(partSize(1), 5 * MiB);
  assert.equal(partSize(2000), 5 * MiB);
  assert.equal(partSize(2001), 10 * MiB);
  assert.equal(partSize(3001), 15 * MiB);
  assert.equal(partSize(10_000), 45 * MiB);
  let total = 0;
  for (let n = 1; n <= 10_000; n++) total += partSize(n);
  assert.equal(total, 46_000 * 5 * MiB, "10,000 parts, S3's limit, hold about 224 GiB");
});
