/**
 * The SFTP protocol, version 3 (draft-ietf-secsh-filexfer-02, which
 * OpenSSH's sftp-server speaks), as bytes: packets to send and packets
 * received, read back into plain values. Pure: the session that carries
 * them over `ssh -s HOST sftp` is sftp_session.ts.
 *
 * A packet is a uint32 length, a type byte and its fields; strings are a
 * uint32 length and bytes. Every request but INIT carries an id that its
 * reply repeats.
 */

export const PROTOCOL_VERSION = 3;

/** Packet types. */
export const FXP = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  REALPATH: 16,
  STAT: 17,
  RENAME: 18,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  NAME: 104,
  ATTRS: 105,
  EXTENDED: 200,
  EXTENDED_REPLY: 201,
} as const;

/** Flags of OPEN. */
export const OPEN_FLAGS = {
  READ: 0x01,
  WRITE: 0x02,
  CREATE: 0x08,
  TRUNCATE: 0x10,
  EXCLUSIVE: 0x20,
} as const;

/** Status codes. */
export const STATUS = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

const ATTR_SIZE = 0x1;
const ATTR_UIDGID = 0x2;
const ATTR_PERMISSIONS = 0x4;
const ATTR_ACMODTIME = 0x8;
const ATTR_EXTENDED = 0x80000000;

/** A file's attributes, as far as the server sent them. */
export interface Attrs {
  size?: number;
  uid?: number;
  gid?: number;
  /** st_mode: type and permission bits. */
  permissions?: number;
  /** Seconds since the epoch. */
  mtime?: number;
}

const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

export function fileType(attrs: Attrs): number | undefined {
  return attrs.permissions === undefined ? undefined : attrs.permissions & S_IFMT;
}

/** A field of a packet being written. */
export type Field = number | bigint | string | Uint8Array | Attrs;

/**
 * One packet: numbers are uint32 (bigint: uint64), strings UTF-8, bytes as
 * they are, attributes as ATTRS (only the permission bits and the times are ever sent).
 */
export function packet(type: number, ...fields: Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const u32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    parts.push(b);
  };
  for (const field of fields) {
    if (typeof field === "number") u32(field);
    else if (typeof field === "bigint") {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, field);
      parts.push(b);
    } else if (typeof field === "string" || field instanceof Uint8Array) {
      const bytes = typeof field === "string" ? new TextEncoder().encode(field) : field;
      u32(bytes.length);
      parts.push(bytes);
    } else {
      u32(
        (field.permissions === undefined ? 0 : ATTR_PERMISSIONS) |
          (field.mtime === undefined ? 0 : ATTR_ACMODTIME),
      );
      if (field.permissions !== undefined) u32(field.permissions);
      if (field.mtime !== undefined) {
        u32(field.mtime); // atime: the same
        u32(field.mtime);
      }
    }
  }
  const length = parts.reduce((sum, p) => sum + p.length, 1);
  const out = new Uint8Array(4 + length);
  new DataView(out.buffer).setUint32(0, length);
  out[4] = type;
  let at = 5;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads the fields of a received packet's body, in order. */
export class Reader {
  #at = 0;
  readonly #view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.#at >= this.bytes.length;
  }

  u32(): number {
    if (this.#at + 4 > this.bytes.length) throw new Error("SFTP packet cut short");
    const n = this.#view.getUint32(this.#at);
    this.#at += 4;
    return n;
  }

  u64(): number {
    if (this.#at + 8 > this.bytes.length) throw new Error("SFTP packet cut short");
    const n = this.#view.getBigUint64(this.#at);
    this.#at += 8;
    return Number(n);
  }

  bytesField(): Uint8Array {
    const length = this.u32();
    if (this.#at + length > this.bytes.length) throw new Error("SFTP packet cut short");
    const out = this.bytes.subarray(this.#at, this.#at + length);
    this.#at += length;
    return out;
  }

  string(): string {
    return new TextDecoder().decode(this.bytesField());
  }

  attrs(): Attrs {
    const flags = this.u32();
    const attrs: Attrs = {};
    if (flags & ATTR_SIZE) attrs.size = this.u64();
    if (flags & ATTR_UIDGID) {
      attrs.uid = this.u32();
      attrs.gid = this.u32();
    }
    if (flags & ATTR_PERMISSIONS) attrs.permissions = this.u32();
    if (flags & ATTR_ACMODTIME) {
      this.u32(); // atime
      attrs.mtime = this.u32();
    }
    if (flags & ATTR_EXTENDED) {
      for (let n = this.u32(); n > 0; n--) {
        this.bytesField();
        this.bytesField();
      }
    }
    return attrs;
  }
}

/**
 * Splits a stream of bytes into packets (type and body) as they arrive.
 * A packet longer than `maxLength` means the stream is not SFTP (a shell's
 * greeting on stdout, say): it throws.
 */
export class PacketSplitter {
  #pending = new Uint8Array(0);

  constructor(private readonly maxLength = 1024 * 1024) {}

  /** The whole packets `chunk` completes, in order; the rest waits for the next chunk. */
  add(chunk: Uint8Array): { type: number; body: Uint8Array }[] {
    let bytes = this.#pending.length === 0 ? chunk : concat(this.#pending, chunk);
    const packets = [];
    while (bytes.length >= 4) {
      const length = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
      if (length < 1 || length > this.maxLength) {
        throw new Error(`not an SFTP reply (a packet of ${length} bytes)`);
      }
      if (bytes.length < 4 + length) break;
      packets.push({ type: bytes[4], body: bytes.slice(5, 4 + length) });
      bytes = bytes.subarray(4 + length);
    }
    this.#pending = bytes.slice();
    return packets;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
