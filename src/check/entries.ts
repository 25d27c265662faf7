// A partition's history as a doubly linked list of call and return entries
// in time order, with O(1) removal and restoration (dancing links), as in
// Porcupine's checker.go.
//
// Entry 2i is the call of operation i, entry 2i+1 its return; index 2n is
// the head sentinel; -1 ends the list. Operations with an unknown outcome
// have no return entry: nothing forces them to take effect by any time.

export interface EntryList {
  readonly head: number;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Every entry in list order. */
  readonly order: readonly number[];
}

/**
 * At equal times calls come first, so operations that merely touch count as
 * concurrent: a coarse clock can make the checker more lenient, never wrong.
 */
export function linkEntries(calls: ArrayLike<number>, returns: ArrayLike<number>, known: Uint8Array): EntryList {
  const n = known.length;
  const entries: number[] = [];
  for (let i = 0; i < n; i++) {
    entries.push(2 * i);
    if (known[i] === 1) entries.push(2 * i + 1);
  }
  const time = (entry: number): number => ((entry & 1) === 0 ? calls[entry >>> 1]! : returns[entry >>> 1]!);
  entries.sort((a, b) => time(a) - time(b) || (a & 1) - (b & 1) || a - b);

  const head = 2 * n;
  const next = new Int32Array(head + 1).fill(-1);
  const prev = new Int32Array(head + 1).fill(-1);
  let last = head;
  for (const entry of entries) {
    next[last] = entry;
    prev[entry] = last;
    last = entry;
  }
  return { head, next, prev, order: entries };
}

/** Takes operation `id` out of the list: its call entry, and its return entry if it has one. */
export function lift(list: EntryList, id: number, hasReturn: boolean): void {
  unlink(list, 2 * id);
  if (hasReturn) unlink(list, 2 * id + 1);
}

/** Undoes the matching `lift`. Lifts are undone in reverse order, so the neighbours' links are intact. */
export function unlift(list: EntryList, id: number, hasReturn: boolean): void {
  if (hasReturn) relink(list, 2 * id + 1);
  relink(list, 2 * id);
}

function unlink({ next, prev }: EntryList, entry: number): void {
  const after = next[entry]!;
  next[prev[entry]!] = after;
  if (after !== -1) prev[after] = prev[entry]!;
}

function relink({ next, prev }: EntryList, entry: number): void {
  const after = next[entry]!;
  next[prev[entry]!] = entry;
  if (after !== -1) prev[after] = entry;
}
