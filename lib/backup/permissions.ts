/**
 * Who may read a backup: never anyone who could not read its source, and
 * nobody may write it. Pure: decided from the source's owner, group and mode
 * and from the user making the backup, who owns the backup.
 */

/** Owner, group and permission bits of a file. */
export interface Ownership {
  uid: number;
  gid: number;
  mode: number;
}

/** What a store gives a file it writes. */
export interface Access {
  /** The group the file should have; null for whatever the store gives it. */
  gid: number | null;
  /** The mode when the file has group `gid`. */
  mode: number;
  /** The mode when the store could not give it that group. */
  modeInOtherGroup: number;
}

/** Files only their owner may read, such as metadata and backups of a pipe. */
export const PRIVATE: Access = { gid: null, mode: 0o400, modeInOtherGroup: 0o400 };

const READ = { owner: 0o400, group: 0o040, other: 0o004 };

/**
 * The access a backup of `source`, made by user `me`, may have. Read bits
 * only: a backup is never writable or executable. A class of users on the
 * backup gets read only if every user who could be in that class could read
 * the source:
 * - the group (when it is the source's group) holds the source's group, and
 *   may hold the source's owner;
 * - in another group, anyone could be a member: the source's owner, group
 *   and others must all be able to read;
 * - others may be the source's owner or, when the backup's group is not the
 *   source's, members of the source's group.
 * The source's owner only counts when it is not `me`, the backup's owner.
 */
export function backupAccess(source: Ownership, me: number): Access {
  const can = (bit: number) => (source.mode & bit) !== 0;
  const owner = source.uid === me || can(READ.owner);
  const group = owner && can(READ.group);
  const other = owner && can(READ.other);
  return {
    gid: source.gid,
    mode: READ.owner | (group ? READ.group : 0) | (other ? READ.other : 0),
    modeInOtherGroup: READ.owner | (group && other ? READ.group | READ.other : 0),
  };
}

/**
 * Why a stored file with `actual` ownership gives more than `access` allows,
 * or undefined when it does not. The owner's own bits are the owner's
 * business (it may always chmod); what counts is what others get.
 */
export function accessProblem(access: Access, actual: Ownership): string | undefined {
  const allowed = actual.gid === access.gid ? access.mode : access.modeInOtherGroup;
  const extra = actual.mode & 0o7077 & ~allowed;
  if (extra === 0) return undefined;
  return `it has mode ${octal(actual.mode & 0o7777)}, more than the ${
    octal(allowed)
  } its source allows`;
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}
