// The connection a node dials to one peer and sends on. It is redialled
// with exponential backoff whenever it fails, and it never makes its user
// wait: a frame that cannot be written now is refused, and Raft retries.

import net from "node:net";
import tls from "node:tls";
import type { NodeId } from "../core/types.js";
import type { Logger } from "../util/log.js";
import { encodeFrame, readFrames } from "./framing.js";
import { HANDSHAKE_MAX_FRAME_BYTES, PeerSecret, decodeHello, encodeHello } from "./handshake.js";

export interface Address {
  readonly host: string;
  readonly port: number;
}

export interface OutboundLinkOptions {
  readonly self: NodeId;
  readonly peer: NodeId;
  readonly address: Address;
  /** Local address to bind before connecting, so the peer sees this node's own host. */
  readonly localAddress: string | undefined;
  readonly logger: Logger;
  /** Frames are refused while this many bytes wait in the socket's buffer. */
  readonly maxBufferedBytes: number;
  /** Redial delay: starts at min, doubles per failure up to max. */
  readonly reconnectMs: { readonly min: number; readonly max: number };
  /** A connect that takes this long, or buffered bytes that make no progress this long, close the connection. */
  readonly timeoutMs: number;
  /** The cluster secret: the peer must prove it holds it before anything is sent (handshake.ts). Null: no authentication. */
  readonly secret: PeerSecret | null;
  /** Mutual TLS: this node's certificate and key, and the CA the peer's certificate (naming `address.host`) must be signed by. Null: plain TCP. */
  readonly tls: { readonly cert: Buffer; readonly key: Buffer; readonly ca: Buffer } | null;
  /** Called when the peer failed to prove it holds the cluster secret. */
  readonly onAuthFailed?: () => void;
}

export class OutboundLink {
  /** Set once connected and the hello is written; null while (re)connecting. */
  private socket: net.Socket | null = null;
  private dialing: net.Socket | null = null;
  private retry: NodeJS.Timeout | null = null;
  private failures = 0;
  /** When the current connection came up (Date.now()). */
  private upSince = 0;
  private closed = false;

  constructor(private readonly options: OutboundLinkOptions) {}

  start(): void {
    this.dial();
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  /** True when a frame of `size` bytes would be accepted now, behind `ahead` bytes about to be written with it. */
  canWrite(size: number, ahead = 0): boolean {
    const s = this.socket;
    if (s === null || !s.writable) return false;
    // A frame larger than the cap still goes out when nothing is queued ahead of it.
    const queued = s.writableLength + ahead;
    return queued === 0 || queued + size <= this.options.maxBufferedBytes;
  }

  /** Queues a frame; call only after canWrite() said yes. */
  write(frame: Buffer): void {
    this.socket!.write(frame);
  }

  close(): void {
    this.closed = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.dialing?.destroy();
    this.socket?.destroy();
  }

  private dial(): void {
    const { self, peer, address, localAddress, logger, timeoutMs } = this.options;
    const t = this.options.tls;
    // With TLS the default identity check applies: the certificate must name the host dialled, this peer's host in the cluster file.
    const socket: net.Socket = t
      ? tls.connect({ host: address.host, port: address.port, localAddress, cert: t.cert, key: t.key, ca: t.ca, ...(net.isIP(address.host) === 0 && { servername: address.host }) } as tls.ConnectionOptions)
      : net.connect({ host: address.host, port: address.port, localAddress, noDelay: true, keepAlive: true });
    if (t) {
      socket.setNoDelay(true);
      socket.setKeepAlive(true);
    }
    this.dialing = socket;
    socket.setTimeout(timeoutMs);
    let handshaking = t !== null;
    socket.on("timeout", () => {
      // Idle is fine; stuck is not: a connect or TLS handshake that hangs, or writes the peer stopped reading.
      if (socket.connecting || handshaking || authenticating || socket.writableLength > 0) {
        logger.warn("peer_connection_stalled", { peer, connecting: socket.connecting, tlsHandshake: handshaking, authenticating, buffered: socket.writableLength });
        socket.destroy();
      }
    });
    let authenticating = false;
    socket.once(t ? "secureConnect" : "connect", () => {
      handshaking = false;
      this.dialing = null;
      const helloBytes = encodeHello({ from: self, to: peer, auth: this.options.secret !== null });
      socket.write(encodeFrame(helloBytes));
      if (this.options.secret === null) return this.up(socket);
      // Nothing is sent until the peer proved it holds the secret, and it gets our proof only then.
      authenticating = true;
      const hello = decodeHello(helloBytes);
      readFrames(socket, {
        maxFrameBytes: HANDSHAKE_MAX_FRAME_BYTES,
        logger,
        onFrame: (frame) => {
          if (!authenticating) {
            logger.warn("peer_unexpected_frame", { peer });
            socket.destroy();
            return;
          }
          authenticating = false;
          const proof = this.options.secret!.answer(hello, frame);
          if (proof === null) {
            logger.error("peer_auth_failed", { peer, address: `${address.host}:${address.port}`, error: "the node there did not prove it holds the cluster secret" });
            this.options.onAuthFailed?.();
            socket.destroy();
            return;
          }
          socket.write(encodeFrame(proof));
          this.up(socket);
        },
      });
    });
    socket.on("error", (err) => {
      const fields = { peer, address: `${address.host}:${address.port}`, error: err.message };
      // One warning per outage, not one per redial.
      if (this.failures === 0) logger.warn("peer_connection_error", fields);
      else logger.debug("peer_connection_error", fields);
    });
    socket.on("close", () => {
      if (this.socket === socket) {
        // The backoff is forgotten only once a connection has lasted: a peer that accepts, then refuses (this
        // node is not, or no longer, a member there) is redialled at the slowest pace, not every few ms.
        if (Date.now() - this.upSince >= this.options.reconnectMs.max) this.failures = 0;
        this.socket = null;
        logger.info("peer_disconnected", { peer });
      }
      if (this.dialing === socket) this.dialing = null;
      if (!this.closed) this.scheduleDial();
    });
    // Nothing but a challenge is expected from the peer on this connection, but reading is how its close is noticed.
    socket.resume();
  }

  private up(socket: net.Socket): void {
    this.upSince = Date.now();
    this.socket = socket;
    const { peer, address, logger } = this.options;
    logger.info("peer_connected", { peer, address: `${address.host}:${address.port}`, authenticated: this.options.secret !== null });
  }

  private scheduleDial(): void {
    const { min, max } = this.options.reconnectMs;
    const backoff = Math.min(max, min * 2 ** this.failures);
    this.failures++;
    // Jitter keeps nodes that lost each other at the same moment from redialling in lockstep.
    const delay = backoff / 2 + Math.random() * (backoff / 2);
    this.retry = setTimeout(() => {
      this.retry = null;
      this.dial();
    }, delay);
  }
}
