// Coverage of the conformance checks: which of the spec's actions a check
// took, and which of the core's rules (src/core/rules.ts, the table the bug
// zoo replaces entries of) it exercised, with each rule's answers counted
// apart (a yes/no rule seen answering only one way is half covered).
// spec.test.ts and validate.test.ts print these; docs/SPEC-FORMAL.md records them.

import { RaftNode, type RaftConfig, type RestoredState } from "../../src/core/node.js";
import { FIGURE2_RULES, type Rules } from "../../src/core/rules.js";

/** Rules that Figure 2's table answers the same way always (only a zoo variant answers otherwise). */
const CONSTANT = new Set(["appendsNoopOnElection", "readNeedsQuorum"]);

export class Coverage {
  readonly rules = new Map<string, number>();
  readonly actions = new Map<string, number>();

  /** Builds a RaftNode whose rules are Figure 2's, each counted when used. */
  readonly make = (config: RaftConfig, restored?: RestoredState): RaftNode => new RaftNode(config, restored, this.countingRules());

  private countingRules(): Rules {
    const counted: Record<string, unknown> = {};
    for (const [name, rule] of Object.entries(FIGURE2_RULES) as [string, (...a: unknown[]) => unknown][]) {
      counted[name] = (...args: unknown[]) => {
        const result = rule(...args);
        const key = typeof result === "boolean" ? `${name} → ${result}` : name;
        this.rules.set(key, (this.rules.get(key) ?? 0) + 1);
        return result;
      };
    }
    return counted as unknown as Rules;
  }

  action(name: string, n = 1): void {
    this.actions.set(name, (this.actions.get(name) ?? 0) + n);
  }

  /** Rules of the table never used, and yes/no rules seen answering only one way. */
  gaps(): string[] {
    const out: string[] = [];
    for (const name of Object.keys(FIGURE2_RULES)) {
      const keys = [...this.rules.keys()].filter((k) => k === name || k.startsWith(`${name} → `));
      if (keys.length === 0) out.push(`${name}: never used`);
      else if (keys.length === 1 && keys[0] !== name && !CONSTANT.has(name)) out.push(`${name}: only ${keys[0]!.split(" → ")[1]}`);
    }
    return out;
  }

  /** Lines for a test's diagnostics. */
  report(): string[] {
    const line = (m: Map<string, number>) => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, c]) => `${k} ${c}`).join(", ");
    const gaps = this.gaps();
    return [`spec actions: ${line(this.actions)}`, `core rules: ${line(this.rules)}`, `core rules not covered both ways: ${gaps.length === 0 ? "none" : gaps.join("; ")}`];
  }
}
