// A generic explicit-state model checker: visits every state a model can
// reach, breadth first, and checks named properties on each state and each
// transition. The traffic light's `traffic check` and the Raft simulator's
// bounded model checker are both built on it.
//
// Breadth first, so the first violation of each property has a shortest path.
// Visited states are remembered by their canonical key only; paths are rebuilt
// afterwards by replaying the recorded event positions, which is why `events`
// and `next` must be deterministic (and are expected to be pure).

import { NO_PARENT, ParentTable } from "./parents.js";
import { VisitedStates } from "./visited.js";

/** A property of every reachable state: null when it holds, else what is wrong. */
export interface Invariant<S> {
  readonly name: string;
  check(state: S): string | null;
}

/**
 * A property of every transition (e.g. "commitIndex never goes backwards"):
 * null when it holds, else what is wrong.
 */
export interface TransitionCheck<S, E> {
  readonly name: string;
  checkTransition(from: S, event: E, to: S): string | null;
}

export interface Model<S, E> {
  readonly initial: readonly S[];
  /** The events enabled in a state, always in the same order for equal states. */
  events(state: S): readonly E[];
  /** The state after `event`; may return a new object, must not depend on anything but its inputs. */
  next(state: S, event: E): S;
  /** Equal for states that should count as the same (e.g. after sorting symmetric parts). */
  key(state: S): string;
  readonly invariants?: readonly Invariant<S>[];
  readonly transitionChecks?: readonly TransitionCheck<S, E>[];
  /** States allowed to be dead ends (e.g. the end of a bounded run); only used with `deadEnds`. */
  isTerminal?(state: S): boolean;
}

export interface ExploreOptions {
  /** Stop (incomplete) rather than visit more distinct states than this. Default: no limit. */
  maxStates?: number;
  /** Do not visit states more than this many events from an initial state. Default: no limit. */
  maxDepth?: number;
  /** Stop (incomplete) once Date.now() reaches this time in ms. */
  deadline?: number;
  /**
   * Report a dead end: a state, not `isTerminal`, that no transition leaves
   * (no enabled event, or every one leads back to the state itself).
   */
  deadEnds?: boolean;
  /**
   * Keep exploring after a violation and report the first (shortest)
   * violation of every property instead of stopping at the first one.
   */
  allViolations?: boolean;
  /** Called after each breadth-first level. */
  onProgress?(progress: ExploreProgress): void;
}

export interface ExploreProgress {
  readonly depth: number;
  readonly statesExplored: number;
  readonly transitions: number;
  /** States found at the next depth, still to expand. */
  readonly frontier: number;
}

/** The name under which dead ends are reported. */
export const DEAD_END = "no state is a dead end";

export interface Step<S, E> {
  readonly event: E;
  readonly state: S;
}

export interface Path<S, E> {
  readonly initial: S;
  readonly steps: readonly Step<S, E>[];
}

export interface Violation<S, E> {
  /** The invariant's or transition check's name, or DEAD_END. */
  readonly invariant: string;
  readonly message: string;
  readonly path: Path<S, E>;
}

export type StopReason = "maxStates" | "maxDepth" | "deadline" | "violation";

export interface ExploreResult<S, E> {
  /** Distinct states visited (each checked against every invariant). */
  readonly statesExplored: number;
  /** Transitions taken, including those back to visited states. */
  readonly transitions: number;
  readonly maxDepthReached: number;
  /** True when every reachable state was visited. */
  readonly complete: boolean;
  /** Why exploration ended early; absent when complete. */
  readonly stoppedBy?: StopReason;
  /** The first violation found (shortest for its property). */
  readonly violation?: Violation<S, E>;
  /** Every violation found: one at most unless `allViolations`, then the first of each property. */
  readonly violations: readonly Violation<S, E>[];
}

/** `events` or `next` gave different results when a path was replayed. */
export class NondeterministicModelError extends Error {
  constructor(step: number) {
    super(
      `replaying the path to a violation reached a different state at step ${step}: ` +
        "the model's events() and next() must be deterministic functions of the state",
    );
    this.name = "NondeterministicModelError";
  }
}

export function explore<S, E>(model: Model<S, E>, options: ExploreOptions = {}): ExploreResult<S, E> {
  return new Exploration(model, options).run();
}

/** How many expansions pass between two looks at the clock. */
const DEADLINE_STRIDE = 1024;

class Exploration<S, E> {
  private readonly visited = new VisitedStates();
  private readonly parents = new ParentTable();
  private readonly invariants: readonly Invariant<S>[];
  private readonly transitionChecks: readonly TransitionCheck<S, E>[];
  private readonly maxStates: number;
  private readonly maxDepth: number;
  private transitions = 0;
  private maxDepthReached = 0;
  private expansions = 0;
  private cutByDepth = false;
  private stoppedBy: StopReason | undefined;
  private readonly violations: Violation<S, E>[] = [];
  private readonly violated = new Set<string>();
  // The breadth-first level being built: states and their ids side by side.
  private nextLevel: S[] = [];
  private nextIds: number[] = [];

  constructor(
    private readonly model: Model<S, E>,
    private readonly options: ExploreOptions,
  ) {
    this.invariants = model.invariants ?? [];
    this.transitionChecks = model.transitionChecks ?? [];
    this.maxStates = options.maxStates ?? Infinity;
    this.maxDepth = options.maxDepth ?? Infinity;
  }

  run(): ExploreResult<S, E> {
    this.model.initial.forEach((state, index) => {
      const key = this.model.key(state);
      if (this.stoppedBy === undefined && this.visited.id(key) === undefined) {
        this.visit(state, key, 0, NO_PARENT, index);
      }
    });
    for (let depth = 0; this.nextLevel.length > 0 && this.stoppedBy === undefined; depth++) {
      const level = this.nextLevel;
      const ids = this.nextIds;
      this.nextLevel = [];
      this.nextIds = [];
      for (let i = 0; i < level.length && this.stoppedBy === undefined; i++) {
        if (this.pastDeadline()) this.stoppedBy = "deadline";
        else this.expand(level[i], ids[i], depth);
      }
      this.options.onProgress?.({
        depth,
        statesExplored: this.visited.size,
        transitions: this.transitions,
        frontier: this.nextLevel.length,
      });
    }
    if (this.stoppedBy === undefined && this.cutByDepth) this.stoppedBy = "maxDepth";
    return {
      statesExplored: this.visited.size,
      transitions: this.transitions,
      maxDepthReached: this.maxDepthReached,
      complete: this.stoppedBy === undefined,
      ...(this.stoppedBy !== undefined && { stoppedBy: this.stoppedBy }),
      ...(this.violations.length > 0 && { violation: this.violations[0] }),
      violations: this.violations,
    };
  }

  private pastDeadline(): boolean {
    const { deadline } = this.options;
    return deadline !== undefined && this.expansions++ % DEADLINE_STRIDE === 0 && Date.now() >= deadline;
  }

  private expand(state: S, id: number, depth: number): void {
    const events = this.model.events(state);
    let leaves = false;
    for (let ordinal = 0; ordinal < events.length; ordinal++) {
      const event = events[ordinal];
      const to = this.model.next(state, event);
      this.transitions++;
      for (const check of this.transitionChecks) {
        if (this.violated.has(check.name)) continue;
        const message = check.checkTransition(state, event, to);
        if (message !== null) {
          const path = this.pathTo(id);
          this.report(check.name, message, { initial: path.initial, steps: [...path.steps, { event, state: to }] });
          if (this.stoppedBy !== undefined) return;
        }
      }
      const toKey = this.model.key(to);
      const toId = this.visited.id(toKey);
      if (toId === id) continue;
      leaves = true;
      if (toId !== undefined) continue;
      if (depth >= this.maxDepth) {
        this.cutByDepth = true;
        continue;
      }
      this.visit(to, toKey, depth + 1, id, ordinal);
      if (this.stoppedBy !== undefined) return;
    }
    if (this.options.deadEnds && !leaves && !this.violated.has(DEAD_END) && !this.model.isTerminal?.(state)) {
      const how = events.length === 0 ? "no event is enabled" : `each of its ${events.length} events leads back to it`;
      this.report(DEAD_END, `a state that no transition leaves: ${how}`, this.pathTo(id));
    }
  }

  /** Records a state not visited before, queues it for expansion and checks the invariants on it. */
  private visit(state: S, key: string, depth: number, parent: number, ordinal: number): void {
    if (this.visited.size >= this.maxStates) {
      this.stoppedBy = "maxStates";
      return;
    }
    const id = this.visited.add(key);
    this.parents.add(parent, ordinal);
    this.nextLevel.push(state);
    this.nextIds.push(id);
    if (depth > this.maxDepthReached) this.maxDepthReached = depth;
    for (const invariant of this.invariants) {
      if (this.violated.has(invariant.name)) continue;
      const message = invariant.check(state);
      if (message !== null) {
        this.report(invariant.name, message, this.pathTo(id));
        if (this.stoppedBy !== undefined) return;
      }
    }
  }

  private report(invariant: string, message: string, path: Path<S, E>): void {
    this.violated.add(invariant);
    this.violations.push({ invariant, message, path });
    if (!this.options.allViolations) this.stoppedBy = "violation";
  }

  /** Rebuilds the path to a visited state by replaying event positions from its initial state. */
  private pathTo(id: number): Path<S, E> {
    const chain: number[] = [];
    let root = id;
    for (let up = this.parents.parent(root); up !== NO_PARENT; up = this.parents.parent(root)) {
      chain.push(root);
      root = up;
    }
    const initial = this.model.initial[this.parents.ordinal(root)];
    const steps: Step<S, E>[] = [];
    let state = initial;
    for (let i = chain.length - 1; i >= 0; i--) {
      const step = steps.length + 1;
      const events = this.model.events(state);
      const ordinal = this.parents.ordinal(chain[i]);
      if (ordinal >= events.length) throw new NondeterministicModelError(step);
      const event = events[ordinal];
      state = this.model.next(state, event);
      if (this.visited.id(this.model.key(state)) !== chain[i]) throw new NondeterministicModelError(step);
      steps.push({ event, state });
    }
    return { initial, steps };
  }
}
