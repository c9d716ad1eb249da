/**
 * POSIX access ACLs on Linux, which Deno has no call for: a file created in
 * a folder with a default ACL inherits entries (`user:nobody:rwx`, say) that
 * a later chmod widens, since chmod then sets the ACL's mask. Removing the
 * access ACL leaves the mode bits as the whole truth. The ACL is the
 * `system.posix_acl_access` extended attribute, reached through libc.
 * Elsewhere (macOS, the BSDs) this does nothing; see README.md.
 */

const ACCESS_ACL = nulTerminated("system.posix_acl_access");
/** Linux errno values meaning "no such ACL" and "no ACLs on this file system". */
const ENODATA = 61;
const EOPNOTSUPP = 95;
/**
 * errno values the call itself never gives for these files, but that the
 * runtime's own I/O on this thread (a non-blocking read: EAGAIN) can leave
 * in errno between the call and the read of errno: the call is made again.
 */
const CLOBBERED = [4, 11]; // EINTR, EAGAIN
/** ENOENT, left the same way by a lookup of the runtime's: believed only once the file is gone. */
const ENOENT = 2;
const TRIES = 5;

function clobbered(code: number, path: string): boolean {
  if (CLOBBERED.includes(code)) return true;
  if (code !== ENOENT) return false;
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

type Libc = ReturnType<typeof openLibc>;
let libc: Libc | undefined;

function openLibc() {
  return Deno.dlopen("libc.so.6", {
    getxattr: { parameters: ["buffer", "buffer", "pointer", "usize"], result: "isize" },
    removexattr: { parameters: ["buffer", "buffer"], result: "i32" },
    __errno_location: { parameters: [], result: "pointer" },
  }).symbols;
}

function linuxLibc(): Libc | undefined {
  if (Deno.build.os !== "linux") return undefined;
  return libc ??= openLibc();
}

function errno(c: Libc): number {
  return new Deno.UnsafePointerView(c.__errno_location()!).getInt32();
}

/** Whether the file at `path` has an access ACL beyond its mode bits. */
export function hasAccessAcl(path: string): boolean {
  const c = linuxLibc();
  if (!c) return false;
  let code = 0;
  for (let attempt = 0; attempt < TRIES; attempt++) {
    if (c.getxattr(nulTerminated(path), ACCESS_ACL, null, 0n) >= 0) return true;
    code = errno(c);
    if (code === ENODATA || code === EOPNOTSUPP) return false;
    if (!clobbered(code, path)) break;
  }
  throw new Error(`cannot read the ACL of ${path} (errno ${code})`);
}

/** Removes the access ACL of the file at `path`, if it has one. */
export function removeAccessAcl(path: string): void {
  const c = linuxLibc();
  if (!c) return;
  let code = 0;
  for (let attempt = 0; attempt < TRIES; attempt++) {
    if (c.removexattr(nulTerminated(path), ACCESS_ACL) === 0) return;
    code = errno(c);
    if (code === ENODATA || code === EOPNOTSUPP) return;
    if (!clobbered(code, path)) break;
  }
  throw new Error(`cannot remove the ACL of ${path} (errno ${code})`);
}

function nulTerminated(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text + "\0");
}
