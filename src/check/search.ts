// The search for a linearization of one partition: Wing & Gong's
// backtracking with Lowe's memoization, laid out as in Porcupine
// (anishathalye/porcupine, checker.go).
//
// An operation can take effect next if its call entry comes before the first
// return entry still in the list (entries.ts); taking effect lifts it out,
// backtracking puts it back. Every configuration reached (the set of
// operations taken, the model state) is cached, so none is explored twice.
//
// Operations with an unknown outcome have no return entry: nothing forces
// them to take effect, so the search succeeds as soon as every known
// operation has. What keeps them cheap:
// - a node tries its known candidates first, and its unknown ones only at
//   its dead end, so the search prefers histories in which lost operations
//   did not happen;
// - a configuration is skipped when a cached one dominates it
//   (configurations.ts);
// - of two unknown operations with equal inputs, only the earlier-called one
//   is applied first (symmetry.ts).
//
// Two strategies differ only in when a node's unknown children are cached:
// - "greedy" caches each child as it explores it: depth first, it finds a
//   linearization quickly, but while it explores the first child the
//   siblings are not yet there to dominate the child's own descendants;
// - "thorough" caches them all at once, before exploring any: far more
//   pruning, so violations are proved quickly, but a configuration pruned in
//   favour of a sibling is only continued once the search gets to that
//   sibling, which delays finding a linearization.
// Both are complete; portfolio.ts runs them side by side.

import { ConfigurationCache, TakenSet } from "./configurations.js";
import { lift, linkEntries, unlift } from "./entries.js";
import { isUnknown, UNKNOWN, type Model, type Operation, type Unknown } from "./model.js";
import { previousEqualInput } from "./symmetry.js";

export type Strategy = "greedy" | "thorough";

export type SearchOutcome<S> =
  | { readonly kind: "linearizable"; readonly steps: number }
  | {
      readonly kind: "violation";
      readonly steps: number;
      /** Indexes into the partition, in the order they took effect: the prefix past the most known operations. */
      readonly prefix: readonly number[];
      /** An operation that returned but cannot take effect after `prefix`. */
      readonly blocked: number;
      /** The state after `prefix`. */
      readonly state: S;
    };

/**
 * Searches one partition, in slices, so that a caller can run searches side
 * by side and stop them at will: it yields the number of steps taken so far
 * whenever it has used its allowance, and `next(steps)` resumes it with
 * that many more. The first `next()` only starts it.
 */
export function* searchPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  strategy: Strategy,
): Generator<number, SearchOutcome<S>, number> {
  const n = ops.length;
  const known = new Uint8Array(n);
  const inputs: I[] = new Array(n);
  const outputs: (O | Unknown)[] = new Array(n);
  let knownLeft = 0;
  let unknownLeft = 0;
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    inputs[i] = op.input;
    if (isUnknown(op)) {
      outputs[i] = UNKNOWN;
      unknownLeft++;
    } else {
      outputs[i] = op.output as O;
      known[i] = 1;
      knownLeft++;
    }
  }
  if (knownLeft === 0) return { kind: "linearizable", steps: 0 };

  const list = linkEntries(
    ops.map((op) => op.call),
    ops.map((op) => op.return),
    known,
  );
  const { head, next } = list;
  const callOrder = list.order.filter((entry) => (entry & 1) === 0).map((entry) => entry >>> 1);
  const earlierTwin = previousEqualInput(
    inputs,
    known.map((k) => 1 - k),
    callOrder,
  );

  const taken = new TakenSet(known);
  const cache = new ConfigurationCache(model, taken);
  /** Whether taking `id` to reach `after` makes a configuration not seen before; caches it if so. */
  const isNew = (id: number, after: S): boolean => {
    taken.flip(id);
    const fresh = !cache.seen(after);
    taken.flip(id);
    return fresh;
  };

  // The path from the initial state: the operation taken at each depth and the state before it.
  const pathIds = new Int32Array(n);
  const pathStates: S[] = new Array(n);
  let depth = 0;
  let state = model.init();
  cache.seen(state);

  // A node walks the list over its known candidates first; at its dead end
  // it lists its unknown-outcome children, then explores them in turn. The
  // node at depth d explores children[cursor[d]..end[d]); cursor[d] is -1
  // while it is still walking.
  const cursor = new Int32Array(n + 1);
  const first = new Int32Array(n + 1);
  const end = new Int32Array(n + 1);
  const blockedAt = new Int32Array(n + 1);
  const childIds: number[] = [];
  const childStates: S[] = [];
  let childTop = 0;
  cursor[0] = -1;
  const cacheChildrenEarly = strategy === "thorough";

  const listUnknownChildren = (): number => {
    first[depth] = childTop;
    let walked = 0;
    for (let e = next[head]!; (e & 1) === 0; e = next[e]!) {
      walked++;
      const id = e >>> 1;
      if (known[id] === 1) continue;
      const twin = earlierTwin[id]!;
      if (twin !== -1 && !taken.has(twin)) continue;
      const result = model.step(state, inputs[id]!, outputs[id]!);
      if (result.ok && (!cacheChildrenEarly || isNew(id, result.state))) {
        childIds[childTop] = id;
        childStates[childTop] = result.state;
        childTop++;
      }
    }
    cursor[depth] = first[depth]!;
    end[depth] = childTop;
    return walked;
  };

  const descend = (id: number, after: S): void => {
    pathIds[depth] = id;
    pathStates[depth] = state;
    depth++;
    state = after;
    taken.flip(id);
    lift(list, id, known[id] === 1);
    if (known[id] === 1) knownLeft--;
    else unknownLeft--;
    cursor[depth] = -1;
  };

  // The best dead end to explain: the one past the most known operations,
  // then with the fewest unknown ones taken.
  const knownTotal = knownLeft;
  let bestProgress = -1;
  let bestPrefix = new Int32Array(0);
  let bestBlocked = -1;
  let bestState = state;

  let used = 0;
  let allowance = 0;
  let entry = next[head]!;
  for (;;) {
    if (used >= allowance) allowance = used + (yield used);
    used++;

    if (cursor[depth] === -1) {
      if ((entry & 1) === 0) {
        const id = entry >>> 1;
        entry = next[entry]!;
        if (known[id] === 0) continue;
        const result = model.step(state, inputs[id]!, outputs[id]!);
        if (!result.ok || !isNew(id, result.state)) continue;
        if (knownLeft === 1) return { kind: "linearizable", steps: used };
        descend(id, result.state);
        entry = next[head]!;
        continue;
      }
      // The first return entry: its operation must take effect before this
      // point, and no known candidate before it led anywhere.
      blockedAt[depth] = entry >>> 1;
      if (unknownLeft > 0) {
        used += listUnknownChildren();
      } else {
        first[depth] = cursor[depth] = end[depth] = childTop;
      }
      continue;
    }

    if (cursor[depth]! < end[depth]!) {
      const child = cursor[depth]!++;
      const id = childIds[child]!;
      if (cacheChildrenEarly || isNew(id, childStates[child]!)) {
        descend(id, childStates[child]!);
        entry = next[head]!;
      }
      continue;
    }

    // A dead end: nothing can take effect before blockedAt[depth] returns.
    const progress = knownTotal - knownLeft;
    if (progress > bestProgress || (progress === bestProgress && depth < bestPrefix.length)) {
      bestProgress = progress;
      bestPrefix = pathIds.slice(0, depth);
      bestBlocked = blockedAt[depth]!;
      bestState = state;
    }
    if (depth === 0) {
      return { kind: "violation", steps: used, prefix: Array.from(bestPrefix), blocked: bestBlocked, state: bestState };
    }
    childTop = first[depth]!;
    depth--;
    const id = pathIds[depth]!;
    state = pathStates[depth]!;
    taken.flip(id);
    if (known[id] === 1) {
      knownLeft++;
      unlift(list, id, true);
      // Back to the parent's walk over its known candidates, after this one.
      entry = next[2 * id]!;
    } else {
      unknownLeft++;
      unlift(list, id, false);
    }
  }
}
