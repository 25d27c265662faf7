// `raftkv/server`: run a replicated service on raftkv's node runtime
// (docs/LIBRARY.md): your state machine, raftkv's log, transport, snapshots
// and admin port.

export { NotLeaderError, OutcomeUnknownError, ReplicatedNode, startNode, type ReplicatedNodeOptions, type StateMachine } from "./service.js";
export {
  ConfigError,
  clusterConfigToJson,
  formatAddress,
  loadClusterFile,
  localClusterConfig,
  parseClusterConfig,
  type Address,
  type ClusterConfig,
  type NodeAddresses,
} from "./config.js";
export { createLogger, silentLogger, type Level, type Logger, type LoggerOptions } from "../util/log.js";
