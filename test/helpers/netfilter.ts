// Real network partitions between raftkv nodes on loopback: each node has its
// own 127.x.y.z address and binds its outgoing peer connections to it (SPEC
// §3), so an iptables rule that drops packets between two addresses cuts that
// link and nothing else (clients and the admin port, reached from 127.0.0.1,
// are untouched). Each Firewall owns one chain, hooked into INPUT, and removes
// it when closed. Needs root and Debian's iptables (installed by .ci/run).

import { execFileSync } from "node:child_process";

let firewalls = 0;

function iptables(...args: string[]): void {
  // -w: wait for the xtables lock, which parallel test files may hold.
  execFileSync("iptables", ["-w", "5", ...args], { stdio: ["ignore", "ignore", "pipe"] });
}

export class Firewall {
  readonly chain: string;
  private open = false;

  private constructor() {
    this.chain = `RAFTKV-${process.pid}-${firewalls++}`;
  }

  static create(): Firewall {
    const f = new Firewall();
    try {
      iptables("-N", f.chain);
    } catch (err) {
      throw new Error(`the partition tests need iptables and root (apt-get install iptables; .ci/run does): ${(err as Error).message}`);
    }
    try {
      iptables("-I", "INPUT", "-j", f.chain);
    } catch (err) {
      iptables("-X", f.chain);
      throw err;
    }
    f.open = true;
    return f;
  }

  /** Drops every packet between `a` and `b`, both ways. */
  cut(a: string, b: string): void {
    iptables("-A", this.chain, "-s", a, "-d", b, "-j", "DROP");
    iptables("-A", this.chain, "-s", b, "-d", a, "-j", "DROP");
  }

  /** Cuts every link between the two groups of addresses. */
  partition(left: readonly string[], right: readonly string[]): void {
    for (const a of left) for (const b of right) this.cut(a, b);
  }

  /** Removes every cut. */
  heal(): void {
    iptables("-F", this.chain);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    iptables("-D", "INPUT", "-j", this.chain);
    iptables("-F", this.chain);
    iptables("-X", this.chain);
  }
}
