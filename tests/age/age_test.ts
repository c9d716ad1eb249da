/**
 * tinybackup's age v1 against the specification's rules (plain values) and
 * against Debian's age tool, both ways: what we encrypt age decrypts, and
 * what age encrypts we decrypt, at every chunk boundary.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { bech32Decode, bech32Encode } from "../../lib/age/bech32.ts";
import { type Identities, NoMatchingIdentity, unwrapFileKey } from "../../lib/age/file_key.ts";
import { AgeFormatError, parseHeader } from "../../lib/age/header.ts";
import {
  formatRecipient,
  generateKeyPair,
  keysInText,
  parseIdentity,
  parseRecipient,
  publicPointOf,
} from "../../lib/age/keys.ts";
import { ageEncryption } from "../../lib/age/encryption.ts";
import { ageDecrypt } from "../../lib/age/stream.ts";
import { needs, programs } from "../_requires.ts";
import { typeOnTerminal } from "../_terminal.ts";
import { run, sameBytes, tempDir } from "../cli/_cli.ts";

const withAge = await needs("age/age_test.ts", programs("age", "age-keygen", "script"));

/** Sealing goes in slots of 32 chunks (encryption.ts), three of them in turn on a thread. */
const SLOT = 32 * 65536;
const SIZES = [
  0,
  1,
  65535,
  65536,
  65537,
  131072,
  200_000,
  SLOT - 1,
  SLOT,
  SLOT + 1,
  3 * SLOT + 1,
  4 * SLOT,
];

function bytesOf(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk.slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function* inPieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** Sealing here, or (`onThread`) on a thread of its own once a slot is full. */
function encrypt(plain: Uint8Array, recipient: string, onThread = false): Promise<Uint8Array> {
  const { encrypt } = ageEncryption({ kind: "x25519", points: [parseRecipient(recipient)!] });
  return collect(encrypt(inPieces(plain, 10_000), () => onThread).output);
}

function decrypt(sealed: Uint8Array, identities: Identities, piece = 7_777): Promise<Uint8Array> {
  return collect(ageDecrypt(inPieces(sealed, piece), identities));
}

Deno.test("bech32: BIP-173's valid strings decode, and a changed character fails the checksum", () => {
  for (const text of ["a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"]) {
    const decoded = bech32Decode(text);
    assert.ok(decoded, text);
    assert.equal(bech32Encode(decoded.prefix, decoded.data), text);
  }
  assert.equal(bech32Decode("a12uel5m"), undefined);
  assert.equal(bech32Decode("a1"), undefined);
});

Deno.test("keys: an identity gives its recipient; case and prefix are checked; files skip comments", () => {
  const { identity, recipient } = generateKeyPair();
  const secret = parseIdentity(identity)!;
  assert.equal(formatRecipient(publicPointOf(secret)), recipient);
  assert.equal(parseIdentity(identity.toLowerCase()), undefined);
  assert.equal(parseRecipient(recipient.toUpperCase()), undefined);
  assert.equal(parseRecipient(identity), undefined);
  assert.equal(parseIdentity(recipient), undefined);
  assert.equal(
    parseRecipient(bech32Encode("age", new Uint8Array(32))),
    undefined,
    "a low-order point",
  );
  const read = keysInText(`# created\r\n\n${recipient}\r\n  \n  # indented\n`, parseRecipient);
  assert.ok("keys" in read && read.keys.length === 1);
  assert.deepEqual(keysInText(`${recipient}\nssh-ed25519 AAAA\n`, parseRecipient), { badLine: 2 });
});

Deno.test("round trip in memory at every chunk and slot boundary, for several recipients, with the age file's checksum", async () => {
  const a = generateKeyPair();
  const b = generateKeyPair();
  for (const size of SIZES) {
    const plain = bytesOf(size);
    for (const onThread of [false, true]) {
      const { encrypt } = ageEncryption({
        kind: "x25519",
        points: [parseRecipient(a.recipient)!, parseRecipient(b.recipient)!],
      });
      const encryption = encrypt(inPieces(plain, 4096), () => onThread);
      const sealed = await collect(encryption.output);
      const what = `size ${size}, ${onThread ? "on a thread" : "here"}`;
      assert.equal(encryption.sha256(), createHash("sha256").update(sealed).digest("hex"), what);
      for (const key of [a, b]) {
        const back = await decrypt(sealed, {
          kind: "x25519",
          secrets: [parseIdentity(key.identity)!],
        });
        assert.ok(sameBytes(back, plain), what);
      }
    }
  }
});

Deno.test("sealing on a thread ends its thread when the reader stops early", async () => {
  // In a process of its own: a thread left running would keep that process from ending.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_stop_early.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(new TextDecoder().decode(stdout), "read the header and the first slot\n");
});

Deno.test("the header: not age, bad base64, an altered MAC, a passphrase stanza with others", async () => {
  const key = generateKeyPair();
  const identities: Identities = { kind: "x25519", secrets: [parseIdentity(key.identity)!] };
  const sealed = await encrypt(new TextEncoder().encode("hello"), key.recipient);
  await assert.rejects(
    decrypt(new TextEncoder().encode("hello, not age\n"), identities),
    AgeFormatError,
  );
  const text = new TextDecoder("latin1").decode(sealed);
  const mac = text.indexOf("\n--- ") + 5;
  const altered = sealed.slice();
  altered[mac + 3] = altered[mac + 3] === 65 ? 66 : 65;
  await assert.rejects(decrypt(altered, identities), /header was altered|not authentic/);
  // Padding is not age's base64.
  const padded = new TextEncoder().encode(text.replace(/\n--- (\S+)/, "\n--- $1="));
  await assert.rejects(decrypt(padded, identities), AgeFormatError);
  const stanzas = parseHeader(sealed)!.stanzas;
  assert.throws(
    () =>
      unwrapFileKey([...stanzas, {
        type: "scrypt",
        args: ["AAAAAAAAAAAAAAAAAAAAAA", "10"],
        body: new Uint8Array(32),
      }], identities),
    AgeFormatError,
  );
  const stranger: Identities = {
    kind: "x25519",
    secrets: [parseIdentity(generateKeyPair().identity)!],
  };
  await assert.rejects(decrypt(sealed, stranger), NoMatchingIdentity);
});

withAge.test("what we encrypt, age -d decrypts; what age -r encrypts, we decrypt", async () => {
  await using dir = await tempDir();
  const keyFile = `${dir.path}/key.txt`;
  await run("age-keygen", ["-o", keyFile]);
  const identityLine = (await Deno.readTextFile(keyFile)).split("\n").find((l) =>
    l.startsWith("AGE-")
  )!;
  const recipient = new TextDecoder().decode(await run("age-keygen", ["-y", keyFile])).trim();
  assert.equal(
    formatRecipient(publicPointOf(parseIdentity(identityLine)!)),
    recipient,
    "age-keygen -y agrees",
  );
  const identities: Identities = { kind: "x25519", secrets: [parseIdentity(identityLine)!] };
  for (const size of SIZES) {
    const plain = bytesOf(size);
    for (const onThread of [false, true]) {
      const ours = await encrypt(plain, recipient, onThread);
      assert.ok(
        sameBytes(await run("age", ["-d", "-i", keyFile], ours), plain),
        `age -d, size ${size}, ${onThread ? "sealed on a thread" : "sealed here"}`,
      );
    }
    const theirs = await run("age", ["-r", recipient], plain);
    assert.ok(sameBytes(await decrypt(theirs, identities), plain), `age -r, size ${size}`);
  }
});

withAge.test("a passphrase file: ours opens with age's passphrase, and age's with ours", async () => {
  await using dir = await tempDir();
  const plain = bytesOf(70_000);
  const passphrase = "correct horse battery staple";
  const { encrypt } = ageEncryption({ kind: "passphrase", passphrase });
  await Deno.writeFile(
    `${dir.path}/ours.age`,
    await collect(encrypt(inPieces(plain, 5000)).output),
  );
  await typeOnTerminal(
    `age -d -o '${dir.path}/ours.out' '${dir.path}/ours.age'`,
    `${passphrase}\n`,
  );
  assert.ok(sameBytes(await Deno.readFile(`${dir.path}/ours.out`), plain));
  await Deno.writeFile(`${dir.path}/plain`, plain);
  await typeOnTerminal(
    `age -p -o '${dir.path}/theirs.age' '${dir.path}/plain'`,
    `${passphrase}\n${passphrase}\n`,
  );
  const theirs = await Deno.readFile(`${dir.path}/theirs.age`);
  assert.ok(sameBytes(await decrypt(theirs, { kind: "passphrase", passphrase }), plain));
  await assert.rejects(
    decrypt(theirs, { kind: "passphrase", passphrase: "wrong" }),
    NoMatchingIdentity,
  );
});
