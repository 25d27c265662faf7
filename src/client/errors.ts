// What can go wrong between a client and the cluster, one class per thing the
// caller must handle differently. The line that matters most is between
// "not executed" (safe to retry anywhere) and "outcome unknown" (the command
// may have been applied): every error that ends an operation says which.

/** The TCP connection could not be opened (refused, unreachable, timed out). Nothing was sent. */
export class ConnectError extends Error {
  override readonly name = "ConnectError";

  constructor(
    readonly address: string,
    /** The system error code (ECONNREFUSED, ...), or "ETIMEDOUT" when the connect timeout passed. */
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(`cannot connect to ${address}: ${describeCode(code)}`, options);
  }
}

/**
 * The connection closed while a request was pending or about to go out.
 * `written` tells whether the request had been handed to the socket: if so
 * the server may have received and executed it.
 */
export class ConnectionLostError extends Error {
  override readonly name = "ConnectionLostError";

  constructor(
    readonly address: string,
    readonly written: boolean,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `connection to ${address} lost (${reason}) ${written ? "after the request was sent: its outcome is unknown" : "before the request was sent"}`,
      options,
    );
  }
}

/** No reply within the request timeout. The server may have executed the request. */
export class RequestTimeoutError extends Error {
  override readonly name = "RequestTimeoutError";

  constructor(
    readonly address: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply from ${address} within ${timeoutMs} ms: the outcome of the request is unknown`);
  }
}

/** The server sent bytes that are not a RESP2 reply; the connection cannot be trusted any more. */
export class ReplyParseError extends Error {
  override readonly name = "ReplyParseError";

  constructor(detail: string) {
    super(`malformed reply from the server: ${detail}`);
  }
}

/** An error reply for the command itself ("ERR ...", "WRONGTYPE ..."): retrying will not help. */
export class ServerError extends Error {
  override readonly name = "ServerError";
  /** The first word of the reply, e.g. "ERR". */
  readonly code: string;

  /** `message` is the whole error line, starting with its code. */
  constructor(message: string) {
    super(message);
    const space = message.indexOf(" ");
    this.code = space < 0 ? message : message.slice(0, space);
  }
}

/** A reply of a type the command never answers with (say, an integer to GET): a server bug or a version mismatch. */
export class UnexpectedReplyError extends Error {
  override readonly name = "UnexpectedReplyError";

  constructor(command: string, expected: string, got: string) {
    super(`${command}: expected ${expected} from the server, got ${got}`);
  }
}

/**
 * The cluster could not complete the operation within the client's timeout
 * (no leader, nodes down, commit not seen). When `outcomeUnknown`, some
 * attempt of a write may have been applied.
 */
export class UnavailableError extends Error {
  override readonly name: string = "UnavailableError";

  constructor(
    readonly timeoutMs: number,
    readonly outcomeUnknown: boolean,
    readonly lastError: Error | null,
  ) {
    super(
      `cluster unavailable: the operation did not complete within ${timeoutMs} ms` +
        (lastError ? ` (last error: ${lastError.message})` : "") +
        (outcomeUnknown ? "; the write may or may not have been applied" : ""),
      lastError === null ? undefined : { cause: lastError },
    );
  }
}

/**
 * Every node refused connections for a while (default 1 s): the cluster is
 * not running there, so waiting out the whole timeout would only delay the
 * news. `refusals` holds each node's last connect error.
 */
export class NoNodeReachableError extends UnavailableError {
  override readonly name: string = "NoNodeReachableError";

  constructor(
    readonly refusals: readonly ConnectError[],
    timeoutMs: number,
    outcomeUnknown: boolean,
  ) {
    super(timeoutMs, outcomeUnknown, refusals[refusals.length - 1] ?? null);
    const unknown = outcomeUnknown ? "; the write may or may not have been applied" : "";
    if (this.nothingListens) {
      this.message = `no node is reachable: ${refusals.map((e) => e.address).join(", ")} ${refusals.length === 1 ? "refuses" : "all refuse"} connections${unknown}`;
      return;
    }
    // Some node answered but was not accepted (TLS): say why, once per reason.
    const byReason = new Map<string, string[]>();
    for (const e of refusals) byReason.set(e.code, [...(byReason.get(e.code) ?? []), e.address]);
    this.message = `no node is reachable: ${[...byReason].map(([code, addresses]) => `${addresses.join(", ")}: ${describeCode(code)}`).join("; ")}${unknown}`;
  }

  /** Whether every node refused the connection (nothing listening), rather than failing the TLS handshake. */
  get nothingListens(): boolean {
    return this.refusals.every((e) => e.code === "ECONNREFUSED");
  }
}

/**
 * A connection the node answered but this client could not accept, or the
 * node would not accept: its certificate is not trusted (wrong --cacert),
 * names another host, or has expired; or TLS spoken to a plain port. Asking
 * again will not change it, so the client counts it like a refused
 * connection (RaftKvClientOptions.unreachableAfterMs).
 */
export function isTrustFailure(code: string): boolean {
  return TRUST_FAILURE.test(code);
}

/** OpenSSL's certificate verification codes (UNABLE_TO_VERIFY_LEAF_SIGNATURE, DEPTH_ZERO_SELF_SIGNED_CERT, ...) and Node's ERR_TLS_* and ERR_SSL_*. */
const TRUST_FAILURE = /CERT|ERR_TLS|SSL|UNABLE_TO_|SIGNATURE|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH|HOSTNAME_MISMATCH/;

/**
 * A write that may or may not have been applied, and cannot be retried
 * safely any more: its session expired on the server after an attempt that
 * may have executed. Read the key to find out.
 */
export class UnknownOutcomeError extends Error {
  override readonly name = "UnknownOutcomeError";

  constructor(reason: string) {
    super(`the write may or may not have been applied: ${reason}`);
  }
}

/** The client was closed while the operation was running, or before it started. */
export class ClientClosedError extends Error {
  override readonly name = "ClientClosedError";

  constructor() {
    super("the client is closed");
  }
}

function describeCode(code: string): string {
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (is the node running?)";
    case "ETIMEDOUT":
      return "timed out";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    case "ENOTFOUND":
      return "unknown host";
    case "ECONNRESET":
      return "connection reset (a TLS port spoken to in plain TCP, or a node that wants a client certificate?)";
    case "ERR_SSL_WRONG_VERSION_NUMBER":
    case "ERR_SSL_PACKET_LENGTH_TOO_LONG":
      // The answer to the TLS hello was not TLS: a plain TCP port.
      return `TLS: the node does not speak TLS on this port (${code}); leave out --tls, or give the cluster file's "tls" to the nodes`;
    default:
      // OpenSSL's verification codes and Node's ERR_TLS_*: the node's certificate was not accepted.
      if (isTrustFailure(code)) return `TLS: the node's certificate is not accepted (${code}); is --cacert the CA that signed it?`;
      return code;
  }
}
