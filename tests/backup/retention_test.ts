import assert from "node:assert/strict";
import { backupsToRemove, type Dated, newestFirst } from "../../lib/backup/retention.ts";

interface Backup extends Dated {
  id: string;
}

/** A backup taken on 22 November 2026 at `clock` (HH:MM:SS.mmm), stored as `file`. */
function backup(id: string, clock: string, file = `notes.db.${id}.gz`): Backup {
  return { id, metadata: { time: `2026-11-22T${clock}Z`, file } };
}

const ids = (backups: readonly Backup[]) => backups.map((b) => b.id);

/** Five backups, oldest first. */
const FIVE = [
  backup("a", "01:00:00.000"),
  backup("b", "02:00:00.000"),
  backup("c", "03:00:00.000"),
  backup("d", "04:00:00.000"),
  backup("e", "05:00:00.000"),
];

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest])
  );
}

Deno.test("backupsToRemove with keep 0 keeps every backup", () => {
  assert.deepEqual(backupsToRemove(FIVE, 0), []);
});

Deno.test("backupsToRemove removes nothing when there are no more than keep backups", () => {
  assert.deepEqual(backupsToRemove([], 3), []);
  assert.deepEqual(backupsToRemove(FIVE, 5), []);
  assert.deepEqual(backupsToRemove(FIVE, 14), []);
});

Deno.test("backupsToRemove with keep N removes all but the N newest", () => {
  assert.deepEqual(ids(backupsToRemove(FIVE, 2)), ["c", "b", "a"]);
  assert.deepEqual(ids(backupsToRemove(FIVE, 4)), ["a"]);
});

Deno.test("backupsToRemove with keep 1 keeps only the newest backup", () => {
  assert.deepEqual(ids(backupsToRemove(FIVE, 1)), ["d", "c", "b", "a"]);
});

Deno.test("backupsToRemove returns the very objects it was given", () => {
  const removed = backupsToRemove(FIVE, 4);
  assert.equal(removed.length, 1);
  assert.equal(removed[0], FIVE[0]);
});

Deno.test("backupsToRemove orders by time before file name", () => {
  // The newer backup has the name that sorts first.
  const older = backup("older", "10:00:00.000", "z.20261122T100000Z.gz");
  const newer = backup("newer", "10:00:00.001", "a.20261122T100000Z.gz");
  assert.deepEqual(ids(backupsToRemove([older, newer], 1)), ["older"]);
  assert.deepEqual(ids(backupsToRemove([newer, older], 1)), ["older"]);
});

Deno.test("backupsToRemove orders backups taken in the same millisecond by file name", () => {
  const first = backup("first", "10:00:00.000", "notes.db.20261122T100000Z.gz");
  const second = backup("second", "10:00:00.000", "notes.db.20261122T100000Z_2.gz");
  assert.deepEqual(ids(backupsToRemove([first, second], 1)), ["first"]);
  assert.deepEqual(ids(backupsToRemove([second, first], 1)), ["first"]);
});

Deno.test("backupsToRemove gives the same answer whatever order the backups come in", () => {
  const backups = [
    backup("a", "01:00:00.000"),
    backup("b", "01:00:00.000", "notes.db.b_2.gz"),
    backup("c", "02:00:00.000"),
    backup("d", "03:00:00.000"),
    backup("e", "03:00:00.500"),
  ];
  for (const order of permutations(backups)) {
    assert.deepEqual(ids(backupsToRemove(order, 2)), ["c", "b", "a"], ids(order).join(""));
  }
});

Deno.test("backupsToRemove does not mutate its input", () => {
  const input = Object.freeze([FIVE[2], FIVE[0], FIVE[4], FIVE[1], FIVE[3]]);
  const before = structuredClone(input);
  backupsToRemove(input, 2);
  assert.deepEqual(input, before);
  assert.deepEqual(ids(input), ["c", "a", "e", "b", "d"]);
});

Deno.test("newestFirst sorts newer backups before older ones", () => {
  const [a, b] = [FIVE[0], FIVE[1]];
  assert.ok(newestFirst(b, a) < 0);
  assert.ok(newestFirst(a, b) > 0);
  assert.deepEqual(ids([...FIVE].sort(newestFirst)), ["e", "d", "c", "b", "a"]);
});

Deno.test("newestFirst treats a backup as equal to itself", () => {
  assert.equal(newestFirst(FIVE[0], FIVE[0]), 0);
  assert.equal(newestFirst(FIVE[0], backup("a", "01:00:00.000")), 0);
});

Deno.test("backupsToRemove orders same-millisecond backups by sequence number, not as text", () => {
  const ninth = backup("ninth", "10:00:00.000", "notes.db.20261122T100000Z_9.gz");
  const tenth = backup("tenth", "10:00:00.000", "notes.db.20261122T100000Z_10.gz");
  assert.deepEqual(ids(backupsToRemove([ninth, tenth], 1)), ["ninth"]);
  assert.deepEqual(ids(backupsToRemove([tenth, ninth], 1)), ["ninth"]);
});
