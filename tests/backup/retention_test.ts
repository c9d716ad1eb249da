import assert from "node:assert/strict";
import {
  backupsToRemove,
  type Dated,
  keepLast,
  newestByTime,
  newestFirst,
  nextGeneration,
} from "../../lib/backup/retention.ts";

interface Backup extends Dated {
  id: string;
}

/**
 * A backup taken on 22 November 2026 at `clock` (HH:MM:SS.mmm), stored as
 * `file`. Unless told otherwise, all are of generation 1 (as runs that raced
 * would be), so time decides, and each holds content of its own.
 */
function backup(
  id: string,
  clock: string,
  file = `notes.db.${id}.gz`,
  { generation = 1, content = id } = {},
): Backup {
  return { id, metadata: { time: `2026-11-22T${clock}Z`, file, generation, sha256: content } };
}

/** A series made in order at one-hour steps, with the content of each given by a letter. */
function versions(contents: string): Backup[] {
  return [...contents].map((content, i) =>
    backup(`${content}${i + 1}`, `${String(i).padStart(2, "0")}:00:00.000`, undefined, {
      generation: i + 1,
      content,
    })
  );
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
  assert.deepEqual(backupsToRemove(FIVE, keepLast(0)), []);
});

Deno.test("backupsToRemove removes nothing when there are no more than keep backups", () => {
  assert.deepEqual(backupsToRemove([], keepLast(3)), []);
  assert.deepEqual(backupsToRemove(FIVE, keepLast(5)), []);
  assert.deepEqual(backupsToRemove(FIVE, keepLast(14)), []);
});

Deno.test("backupsToRemove with keep N removes all but the N newest", () => {
  assert.deepEqual(ids(backupsToRemove(FIVE, keepLast(2))), ["c", "b", "a"]);
  assert.deepEqual(ids(backupsToRemove(FIVE, keepLast(4))), ["a"]);
});

Deno.test("backupsToRemove with keep 1 keeps only the newest backup", () => {
  assert.deepEqual(ids(backupsToRemove(FIVE, keepLast(1))), ["d", "c", "b", "a"]);
});

Deno.test("backupsToRemove returns the very objects it was given", () => {
  const removed = backupsToRemove(FIVE, keepLast(4));
  assert.equal(removed.length, 1);
  assert.equal(removed[0], FIVE[0]);
});

Deno.test("backupsToRemove orders by time before file name", () => {
  // The newer backup has the name that sorts first.
  const older = backup("older", "10:00:00.000", "z.20261122T100000Z.gz");
  const newer = backup("newer", "10:00:00.001", "a.20261122T100000Z.gz");
  assert.deepEqual(ids(backupsToRemove([older, newer], keepLast(1))), ["older"]);
  assert.deepEqual(ids(backupsToRemove([newer, older], keepLast(1))), ["older"]);
});

Deno.test("backupsToRemove orders backups taken in the same millisecond by file name", () => {
  const first = backup("first", "10:00:00.000", "notes.db.20261122T100000Z.gz");
  const second = backup("second", "10:00:00.000", "notes.db.20261122T100000Z_2.gz");
  assert.deepEqual(ids(backupsToRemove([first, second], keepLast(1))), ["first"]);
  assert.deepEqual(ids(backupsToRemove([second, first], keepLast(1))), ["first"]);
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
    assert.deepEqual(
      ids(backupsToRemove(order, keepLast(2))),
      ["c", "b", "a"],
      ids(order).join(""),
    );
  }
});

Deno.test("backupsToRemove does not mutate its input", () => {
  const input = Object.freeze([FIVE[2], FIVE[0], FIVE[4], FIVE[1], FIVE[3]]);
  const before = structuredClone(input);
  backupsToRemove(input, keepLast(2));
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
  assert.deepEqual(ids(backupsToRemove([ninth, tenth], keepLast(1))), ["ninth"]);
  assert.deepEqual(ids(backupsToRemove([tenth, ninth], keepLast(1))), ["ninth"]);
});

Deno.test("newestFirst orders a series by generation first: a clock a year ahead does not win", () => {
  const ahead = { ...backup("ahead", "10:00:00.000", "n.20271122T100000Z.gz", { generation: 1 }) };
  ahead.metadata.time = "2027-11-22T10:00:00.000Z";
  const after = backup("after", "11:00:00.000", "n.20261122T110000Z.gz", { generation: 2 });
  assert.deepEqual(ids([ahead, after].sort(newestFirst)), ["after", "ahead"]);
  assert.deepEqual(ids(backupsToRemove([ahead, after], keepLast(1))), ["ahead"]);
  // For people, time still orders: the future one shows first.
  assert.deepEqual(ids([after, ahead].sort(newestByTime)), ["ahead", "after"]);
});

Deno.test("nextGeneration is one more than the highest in the series, 1 for none", () => {
  assert.equal(nextGeneration([]), 1);
  assert.equal(nextGeneration(versions("ABC")), 4);
  assert.equal(nextGeneration([...versions("AB")].reverse()), 3);
});

Deno.test("backupsToRemove keeps N distinct versions: after C, A, B, A with keep 3, the last A, B and C", () => {
  const series = versions("CABA");
  assert.deepEqual(ids(backupsToRemove(series, keepLast(3))), ["A2"]);
  assert.deepEqual(ids(backupsToRemove(series, keepLast(2))), ["A2", "C1"]);
  assert.deepEqual(ids(backupsToRemove(series, keepLast(1))), ["B3", "A2", "C1"]);
  assert.deepEqual(ids(backupsToRemove(series, keepLast(4))), ["A2"]);
});

Deno.test("backupsToRemove removes older copies of the same content, keeping the newest copy", () => {
  assert.deepEqual(ids(backupsToRemove(versions("AAA"), keepLast(3))), ["A2", "A1"]);
  assert.deepEqual(ids(backupsToRemove(versions("ABAB"), keepLast(14))), ["B2", "A1"]);
  assert.deepEqual(ids(backupsToRemove(versions("ABCDE"), keepLast(3))), ["B2", "A1"]);
});

Deno.test("backupsToRemove with keep 0 keeps copies of the same content too", () => {
  assert.deepEqual(backupsToRemove(versions("AAA"), keepLast(0)), []);
});
