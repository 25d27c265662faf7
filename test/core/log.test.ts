import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ENTRY_OVERHEAD_BYTES, RaftLog } from "../../src/core/log.js";
import { EntryType, type Entry } from "../../src/core/types.js";

/** A log from a list of terms: terms[i] is the term of the entry at index i + 1. */
function logOf(terms: number[]): RaftLog {
  return new RaftLog(terms.map((term, i) => entry(i + 1, term)));
}

function entry(index: number, term: number, text = `${index}@${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(text) };
}

function termsOf(log: RaftLog): number[] {
  const out: number[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) out.push(log.term(i)!);
  return out;
}

describe("RaftLog: AppendEntries semantics", () => {
  test("appending at the start always works", () => {
    const log = logOf([]);
    const r = log.tryAppend(0, 0, [entry(1, 1), entry(2, 1)]);
    assert.deepEqual(r, { ok: true, lastNewIndex: 2, truncatedFrom: null });
    assert.deepEqual(termsOf(log), [1, 1]);
  });

  test("no holes: appending after a missing index fails and changes nothing", () => {
    const log = logOf([1, 1]);
    const r = log.tryAppend(4, 1, [entry(5, 1)]);
    assert.deepEqual(r, { ok: false, conflictIndex: 3, conflictTerm: 0 });
    assert.deepEqual(termsOf(log), [1, 1]);
  });

  test("prevTerm must match", () => {
    const log = logOf([1, 1, 2]);
    const r = log.tryAppend(3, 3, [entry(4, 3)]);
    assert.equal(r.ok, false);
    assert.deepEqual(termsOf(log), [1, 1, 2]);
  });

  test("idempotent: the same call twice leaves the same log", () => {
    const log = logOf([1]);
    const es = [entry(2, 1), entry(3, 2)];
    log.tryAppend(1, 1, es);
    const once = termsOf(log);
    const r = log.tryAppend(1, 1, es);
    assert.deepEqual(termsOf(log), once);
    assert.deepEqual(r, { ok: true, lastNewIndex: 3, truncatedFrom: null });
  });

  test("an empty entry list reports whether an append there would be legal", () => {
    const log = logOf([1, 2, 2]);
    assert.equal(log.tryAppend(3, 2, []).ok, true);
    assert.equal(log.tryAppend(2, 2, []).ok, true);
    assert.equal(log.tryAppend(3, 1, []).ok, false);
    assert.equal(log.tryAppend(4, 2, []).ok, false);
    assert.deepEqual(termsOf(log), [1, 2, 2], "a check never changes the log");
  });

  test("a conflicting suffix is removed and replaced", () => {
    const log = logOf([1, 1, 2, 2, 2]);
    const r = log.tryAppend(2, 1, [entry(3, 3)]);
    assert.deepEqual(r, { ok: true, lastNewIndex: 3, truncatedFrom: 3 });
    assert.deepEqual(termsOf(log), [1, 1, 3]);
  });

  test("matching entries are never removed by a stale request carrying fewer entries", () => {
    const log = logOf([1]);
    log.tryAppend(1, 1, [entry(2, 1), entry(3, 1), entry(4, 1)]);
    // An older AppendEntries, delivered late, with only the first of those entries.
    const r = log.tryAppend(1, 1, [entry(2, 1)]);
    assert.deepEqual(r, { ok: true, lastNewIndex: 2, truncatedFrom: null });
    assert.deepEqual(termsOf(log), [1, 1, 1, 1]);
  });

  test("fast-backtracking hint: term of the conflicting entry and first index of that term", () => {
    const log = logOf([1, 1, 2, 2, 2, 2]);
    assert.deepEqual(log.tryAppend(5, 3, [entry(6, 3)]), { ok: false, conflictIndex: 3, conflictTerm: 2 });
    assert.equal(log.lastIndexOfTerm(2), 6);
    assert.equal(log.lastIndexOfTerm(1), 2);
    assert.equal(log.lastIndexOfTerm(7), 0);
  });

  test("§5.4.1 up-to-date comparison: later last term wins, then longer log", () => {
    const log = logOf([1, 2, 2]);
    assert.equal(log.isUpToDate(1, 3), true);
    assert.equal(log.isUpToDate(3, 2), true);
    assert.equal(log.isUpToDate(2, 2), false);
    assert.equal(log.isUpToDate(9, 1), false);
  });
});

// Figure 7 of the Raft paper: a leader of term 8 whose log is
// 1 1 1 4 4 5 5 6 6 6 appends one entry at index 11 with prevIndex 10, prevTerm 6.
describe("RaftLog: Figure 7", () => {
  const cases: { name: string; terms: number[]; ok: boolean; after: number[] }[] = [
    { name: "(a) missing one entry", terms: [1, 1, 1, 4, 4, 5, 5, 6, 6], ok: false, after: [1, 1, 1, 4, 4, 5, 5, 6, 6] },
    { name: "(b) missing many entries", terms: [1, 1, 1, 4], ok: false, after: [1, 1, 1, 4] },
    {
      name: "(c) an extra term-6 entry at 11 is replaced",
      terms: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      ok: true,
      after: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 8],
    },
    {
      name: "(d) extra term-7 entries at 11 and 12 are removed",
      terms: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      ok: true,
      after: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 8],
    },
    { name: "(e) missing entries, extra term-4 entries", terms: [1, 1, 1, 4, 4, 4, 4], ok: false, after: [1, 1, 1, 4, 4, 4, 4] },
    {
      name: "(f) term mismatch at index 10",
      terms: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
      ok: false,
      after: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const log = logOf(c.terms);
      const r = log.tryAppend(10, 6, [entry(11, 8)]);
      assert.equal(r.ok, c.ok);
      assert.deepEqual(termsOf(log), c.after);
    });
  }

  test("(f) hint lets the leader skip the whole term-3 run at once", () => {
    const r = logOf([1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]).tryAppend(10, 6, [entry(11, 8)]);
    assert.deepEqual(r, { ok: false, conflictIndex: 7, conflictTerm: 3 });
  });
});

describe("RaftLog: compaction base", () => {
  test("compact keeps the suffix and remembers the snapshot's index and term", () => {
    const log = logOf([1, 1, 2, 2, 3]);
    log.compact(3, 2);
    assert.equal(log.snapshotIndex, 3);
    assert.equal(log.snapshotTerm, 2);
    assert.equal(log.firstIndex(), 4);
    assert.equal(log.lastIndex(), 5);
    assert.equal(log.term(3), 2, "the snapshot's last term is still known");
    assert.equal(log.term(2), undefined, "compacted terms are not");
    assert.deepEqual(log.slice(1, 10).map((e) => e.index), [4, 5]);
  });

  test("an AppendEntries reaching below the snapshot is checked at the snapshot", () => {
    const log = logOf([1, 1, 2]);
    log.compact(2, 1);
    const r = log.tryAppend(1, 1, [entry(2, 1), entry(3, 2), entry(4, 2)]);
    assert.deepEqual(r, { ok: true, lastNewIndex: 4, truncatedFrom: null });
    assert.equal(log.lastIndex(), 4);
    assert.deepEqual(log.tryAppend(0, 0, [entry(1, 1)]), { ok: true, lastNewIndex: 1, truncatedFrom: null });
  });

  test("restore replaces a log that does not hold the snapshot's last entry", () => {
    const log = logOf([1, 1, 2]);
    log.restore(10, 4, null);
    assert.equal(log.lastIndex(), 10);
    assert.equal(log.lastTerm(), 4);
    assert.equal(log.firstIndex(), 11);
  });

  test("slice respects a byte budget but always returns at least one entry", () => {
    const log = logOf([1, 1, 1, 1]);
    const size = log.entry(1)!.data.length + ENTRY_OVERHEAD_BYTES;
    assert.equal(log.slice(1, 5, size * 2).length, 2);
    assert.equal(log.slice(1, 5, 0).length, 1);
  });
});
