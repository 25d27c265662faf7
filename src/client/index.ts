// `raftkv/client`: a client for a raftkv cluster (docs/LIBRARY.md). It finds
// the leader, retries through elections, and makes retried writes apply once.

export { RaftKvClient, DEFAULT_TIMEOUT_MS, type RaftKvClientOptions, type TransactionCommands } from "./client.js";
export type { TlsClientOptions } from "./connection.js";
export type { NodeAddress } from "./address.js";
export { formatHostPort, parseHostPort } from "./address.js";
export {
  ClientClosedError,
  ConnectError,
  ConnectionLostError,
  NoNodeReachableError,
  ReplyParseError,
  RequestTimeoutError,
  ServerError,
  UnavailableError,
  UnexpectedReplyError,
  UnknownOutcomeError,
} from "./errors.js";
export { changeMembers, fetchMembers, membersDiscovery, surveyMembers, type MemberChange, type MemberInfo, type MembersAnswer } from "./members.js";
export { fetchStatus, StatusUnavailableError, type NodeStatus } from "./status.js";
export type { Reply } from "../resp/writer.js";
