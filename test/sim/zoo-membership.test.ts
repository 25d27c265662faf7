import { describe } from "node:test";
import { zooTest } from "./zoo-support.js";

// Membership changes (thesis ch. 4): runs with spare servers and an operator
// moving the cluster to random configurations (PlanOptions.membership).
describe("bug zoo: membership changes", () => {
  zooTest("learners-counted", 500);
  zooTest("no-joint", 1500);
  zooTest("concurrent-changes", 1500);
});
