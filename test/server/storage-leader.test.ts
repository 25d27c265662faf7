// Storage faults on the leader (docs/STORAGE.md): it is killed, its disk
// damaged, and it comes back as a follower that recovers from the new
// leader; nothing it had acknowledged is lost.

import { describe, test } from "node:test";
import { FAULTS } from "./storage-support.js";
import { storageScenario } from "./storage-scenario.js";

describe("the old leader's disk loses or damages what it had written", () => {
  for (const fault of FAULTS) test(fault, { timeout: 120_000 }, () => storageScenario(fault, "leader"));
});
