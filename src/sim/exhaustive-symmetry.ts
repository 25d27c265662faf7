// The canonical key of a state, with symmetry reduction.
//
// The servers run the same code with the same configuration and differ only
// in their ids, and no checked property prefers an id; so two states that a
// renaming of the servers maps onto each other have the same futures up to
// that renaming, and only one of them needs exploring. The canonical key is
// the smallest key over the renamings that order the servers by their
// signature (a rename-proof summary); only servers with equal signatures
// need trying both ways, so usually one or two renamings are rendered, and
// never more than N!. This divides the state count by up to N! (6 for three
// servers).
//
// Keys stay short: every distinct server text and message text, as renamed,
// is numbered once (interned), and a key lists numbers. Numbers are never
// forgotten, since keys must stay comparable for the whole exploration;
// there are far fewer distinct server and message texts than states.

import type { ClusterState, InFlight } from "./exhaustive-state.js";
import { ID_CHARS, idChar, idOf, type NodePart } from "./exhaustive-key.js";

export class Canonicalizer {
  private readonly numbers = new Map<string, number>();

  constructor(private readonly symmetric: boolean) {}

  /** A text equal for two states exactly when they are equal (up to renaming the servers when symmetric). */
  key(s: ClusterState): string {
    const n = s.parts.length;
    const indexes: number[] = [];
    for (let i = 0; i < n; i++) indexes.push(i);
    if (!this.symmetric) return this.render(s, indexes);
    const signatures = s.parts.map((p) => p.signature);
    indexes.sort((a, b) => compare(signatures[a]!, signatures[b]!));
    let tied = false;
    for (let k = 1; k < n; k++) if (signatures[indexes[k]!] === signatures[indexes[k - 1]!]) tied = true;
    if (!tied) return this.render(s, indexes);
    let best: string | undefined;
    for (const order of tiedOrders(indexes, signatures)) {
      const key = this.render(s, order);
      if (best === undefined || key < best) best = key;
    }
    return best!;
  }

  /** The state's key with the servers renamed so that the one at order[k] (an index into the state's arrays) gets id k + 1. */
  private render(s: ClusterState, order: readonly number[]): string {
    const n = order.length;
    const newId = new Array<number>(n);
    let renaming = 0;
    let identity = true;
    for (let k = 0; k < n; k++) {
      const old = order[k]!;
      newId[old] = k + 1;
      renaming = renaming * n + old;
      if (old !== k) identity = false;
    }
    const rename = identity ? null : (c: string): string => idChar(newId[idOf(c) - 1]!);
    let key = "";
    for (const old of order) key += `${this.part(s.parts[old]!, order, renaming, rename)},`;
    const network = s.network.map((f) => this.message(f, renaming, rename));
    if (network.length > 1) network.sort((a, b) => a - b);
    let leaders = "";
    for (const mask of s.leaders) {
      let renamed = 0;
      for (let old = 0; old < n; old++) if (mask & (1 << old)) renamed |= 1 << (newId[old]! - 1);
      leaders += `${renamed},`;
    }
    let committed = "";
    for (const c of s.committed) committed += `${c.term}/${c.commitTerm},`;
    return `${key}#${network.join(",")}#${s.proposals}#${leaders}#${committed}`;
  }

  /** The number of one server's text under a renaming (rename null: the identity), memoized per part for its last renaming. */
  private part(p: NodePart, order: readonly number[], renaming: number, rename: ((c: string) => string) | null): number {
    if (p.memo?.renaming === renaming) return p.memo.number;
    let votes = "";
    let progress = "";
    for (const old of order) {
      votes += `${p.votes[old]},`;
      progress += `${p.progress[old]};`;
    }
    const number = this.intern(`${rename ? p.text.replace(ID_CHARS, rename) : p.text}|${votes}|${progress}`);
    p.memo = { renaming, number };
    return number;
  }

  private message(f: InFlight, renaming: number, rename: ((c: string) => string) | null): number {
    if (f.memo?.renaming === renaming) return f.memo.number;
    const number = this.intern(rename ? rename(f.key[0]!) + rename(f.key[1]!) + f.key.slice(2) : f.key);
    f.memo = { renaming, number };
    return number;
  }

  private intern(text: string): number {
    let number = this.numbers.get(text);
    if (number === undefined) {
      number = this.numbers.size;
      this.numbers.set(text, number);
    }
    return number;
  }
}

/** Every order of `sorted` that keeps it sorted by signature: runs of equal signatures in every order. */
function tiedOrders(sorted: readonly number[], signatures: readonly string[]): number[][] {
  let orders: number[][] = [[]];
  for (let start = 0; start < sorted.length; ) {
    let end = start + 1;
    while (end < sorted.length && signatures[sorted[end]!] === signatures[sorted[start]!]) end++;
    const runOrders = permutations(sorted.slice(start, end));
    orders = orders.flatMap((head) => runOrders.map((run) => [...head, ...run]));
    start = end;
  }
  return orders;
}

function permutations(items: readonly number[]): number[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((first, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [first, ...rest]));
}

/** Code-unit order, so the result does not depend on the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
