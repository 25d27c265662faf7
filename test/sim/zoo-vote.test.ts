import { describe } from "node:test";
import { zooTest } from "./zoo-support.js";

// Needs a split vote, and a voter that crashes and restarts between the two requests.
describe("bug zoo: a vote answered before it is persisted", () => {
  zooTest("vote-not-persisted", 20000);
});
