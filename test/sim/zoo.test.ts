import { describe } from "node:test";
import { zooTest } from "./zoo-support.js";

describe("bug zoo: the quick ones", () => {
  // The sweep (test/sim/sweep.test.ts) covers other seeds, with their stories.
  zooTest("figure8-paper", 1000);
  zooTest("no-up-to-date-check", 500);
  zooTest("double-vote", 500);
  zooTest("truncate-matching", 500);
  zooTest("keep-leadership", 1500);
  zooTest("commit-past-last-new", 500);
  zooTest("read-without-quorum", 500);
});

describe("bug zoo: storage faults (docs/STORAGE.md)", () => {
  zooTest("damaged-votes", 500);
  zooTest("small-survey", 3000);
  zooTest("stale-acks", 500);
});
