/**
 * For age_test.ts: reads the start of an age file sealed on a thread, then
 * stops. The process ends on its own only if the sealing thread was ended.
 */
import { ageEncryption } from "../../lib/age/encryption.ts";
import { generateKeyPair, parseRecipient } from "../../lib/age/keys.ts";

const SLOT = 32 * 65536;

async function* plaintext(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < 4 * SLOT; i += 65536) yield crypto.getRandomValues(new Uint8Array(65536));
}

const { encrypt } = ageEncryption({
  kind: "x25519",
  points: [parseRecipient(generateKeyPair().recipient)!],
});
const reading = encrypt(plaintext(), () => true).output[Symbol.asyncIterator]();
await reading.next();
await reading.next();
await reading.return?.(undefined);
console.log("read the header and the first slot");
