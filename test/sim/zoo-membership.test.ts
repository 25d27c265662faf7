import { describe } from "node:test";
import { zooTest } from "./zoo-support.js";

// Membership changes (thesis ch. 4): runs with spare servers and an operator
// moving the cluster to random configurations (PlanOptions.membership).
describe("bug zoo: membership changes", () => {
  zooTest("learners-counted", 500);
  zooTest("no-joint", 1500);
  // Search seed 3: since the simulator runs the server's request table (a
  // replaced write retried at once), seed 1 finds it in no fewer than 1500 runs.
  zooTest("concurrent-changes", 500, 3);
});
