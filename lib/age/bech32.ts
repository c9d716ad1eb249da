/**
 * Bech32 (BIP 173), the text form of age keys: `age1...` recipients and
 * `AGE-SECRET-KEY-1...` identities. age lifts BIP 173's 90-character limit.
 */

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let check = 1;
  for (const value of values) {
    const top = check >>> 25;
    check = ((check & 0x1ffffff) << 5) ^ value;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) check ^= GENERATORS[i];
  }
  return check;
}

function expandPrefix(prefix: string): number[] {
  const codes = [...prefix].map((c) => c.charCodeAt(0));
  return [...codes.map((c) => c >>> 5), 0, ...codes.map((c) => c & 31)];
}

/** Regroups bits: 8-bit bytes into 5-bit words, or back (where leftover bits must be zero padding). */
function regroup(
  values: readonly number[],
  from: number,
  to: number,
  pad: boolean,
): number[] | undefined {
  let accumulator = 0;
  let bits = 0;
  const out: number[] = [];
  for (const value of values) {
    accumulator = (accumulator << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((accumulator >>> bits) & ((1 << to) - 1));
    }
  }
  if (pad) {
    if (bits > 0) out.push((accumulator << (to - bits)) & ((1 << to) - 1));
  } else if (bits >= from || ((accumulator << (to - bits)) & ((1 << to) - 1)) !== 0) {
    return undefined;
  }
  return out;
}

/** `data` under the lowercase `prefix`, in lowercase. */
export function bech32Encode(prefix: string, data: Uint8Array): string {
  const words = regroup([...data], 8, 5, true)!;
  const check = polymod([...expandPrefix(prefix), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (check >>> (5 * (5 - i))) & 31);
  return prefix + "1" + [...words, ...checksum].map((w) => CHARSET[w]).join("");
}

/** The prefix (lowercase) and data of a Bech32 string, or undefined when it is not one. */
export function bech32Decode(text: string): { prefix: string; data: Uint8Array } | undefined {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return undefined;
  const lower = text.toLowerCase();
  const split = lower.lastIndexOf("1");
  if (split < 1 || lower.length - split - 1 < 6) return undefined;
  const prefix = lower.slice(0, split);
  if ([...prefix].some((c) => c.charCodeAt(0) < 33 || c.charCodeAt(0) > 126)) return undefined;
  const words: number[] = [];
  for (const c of lower.slice(split + 1)) {
    const word = CHARSET.indexOf(c);
    if (word < 0) return undefined;
    words.push(word);
  }
  if (polymod([...expandPrefix(prefix), ...words]) !== 1) return undefined;
  const bytes = regroup(words.slice(0, -6), 5, 8, false);
  return bytes ? { prefix, data: Uint8Array.from(bytes) } : undefined;
}
