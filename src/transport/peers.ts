// Message passing between the nodes of a cluster over TCP.
//
// Each node dials every other node and sends only on the connection it
// dialled; it receives on the connections the others dialled. Two one-way
// connections per pair need no tie-breaking about who dials whom, and each
// side repairs its own sending path. Outgoing connections are bound to the
// node's own listen host, so with one loopback address per node (127.0.0.11,
// .12, ...) a node's traffic can be cut off by address.
//
// Sending never waits: while a peer is unreachable, or slower than the
// cap on bytes buffered for it, its messages are dropped — Raft retries.

import net, { type AddressInfo, type Socket } from "node:net";
import tls, { type TLSSocket } from "node:tls";
import type { Message, MessageType, NodeId } from "../core/types.js";
import type { Logger } from "../util/log.js";
import { CodecError, decodeMessage, encodeMessageInto, encodedMessageSize } from "./codec.js";
import { FRAME_HEADER_BYTES, encodeFrame, readFrames, remoteOf, writeFrameHeader } from "./framing.js";
import { CHALLENGE_BYTES, HANDSHAKE_MAX_FRAME_BYTES, HandshakeError, PeerSecret, decodeHello, freshNonce, type Hello } from "./handshake.js";
import { OutboundLink, type Address } from "./outbound.js";

export type { Address } from "./outbound.js";

export interface PeerTransportOptions {
  readonly id: NodeId;
  /** Where this node accepts peer connections; its host is also the source address of the ones it dials. */
  readonly listen: Address;
  /** The other nodes of the cluster (an entry for `id` itself is ignored). */
  readonly peers: ReadonlyMap<NodeId, Address>;
  readonly logger: Logger;
  /**
   * Called for each message from a peer, in the order that peer sent them.
   * Byte fields of the message are views of the received bytes: copy what is kept for long.
   */
  readonly onMessage: (message: Message) => void;
  /** Largest frame accepted or sent. Default 64 MiB. */
  readonly maxFrameBytes?: number;
  /** Bytes that may wait in a peer's socket buffer before messages to it are dropped. Default 64 MiB. */
  readonly maxBufferedBytes?: number;
  /** Redial delay after a failure: starts at min, doubles up to max. Default 50–1000 ms. */
  readonly reconnectMs?: { readonly min: number; readonly max: number };
  /** A connect, a handshake, or buffered bytes making no progress for this long close the connection. Default 2000 ms. */
  readonly timeoutMs?: number;
  /**
   * The cluster secret (docs/SECURITY.md). With it, every connection proves
   * in both directions that its other end holds it (handshake.ts). Without
   * it, a hello is believed if it names a member and comes from that
   * member's host.
   */
  readonly secret?: Buffer | null;
  /** Connections still in their handshake at once; more are closed at once. Default 64. */
  readonly maxHandshakes?: number;
  /**
   * Mutual TLS (docs/SECURITY.md): both ends show a certificate signed by
   * `ca`, and each must name the peer host the cluster file gives the node it
   * is (the dialled node's, checked by the dialler; the dialler's, checked
   * once its hello says who it is). Null or absent: plain TCP.
   */
  readonly tls?: PeerTls | null;
}

/** PEM bytes of this node's certificate and key, and of the CA that signed every node's. */
export interface PeerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

export type MessageCounts = Readonly<Record<MessageType, number>>;

export interface TransportStats {
  readonly sent: MessageCounts;
  readonly received: MessageCounts;
  /** Messages send() gave up on: peer unreachable or too far behind, message too large, or transport closed. */
  readonly dropped: MessageCounts;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Incoming connections closed before or during their handshake (stranger, wrong address, failed proof, too many at once). */
  readonly refusedConnections: number;
  /** Messages refused on an authenticated connection: undecodable, or not from the node it authenticated as, or not to this node. */
  readonly rejectedMessages: number;
  /** Socket writes made: one per send(), one per peer per sendAll(). */
  readonly writes: number;
}

/** The default frame limit of the peer port. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** The largest log entry an AppendEntries frame of the default limit always carries (the rest is room for the message around it). */
export const MAX_REPLICABLE_ENTRY_BYTES = DEFAULT_MAX_FRAME_BYTES - 64 * 1024;

export class PeerTransport {
  private readonly id: NodeId;
  private readonly logger: Logger;
  private readonly onMessage: (message: Message) => void;
  private readonly maxFrameBytes: number;
  private readonly timeoutMs: number;
  private readonly server: net.Server;
  private readonly links = new Map<NodeId, OutboundLink>();
  /** The members' peer addresses: whom this node dials, and whose hellos it accepts (setPeers changes it). */
  private readonly peerAddresses = new Map<NodeId, Address>();
  private started = false;
  /** Non-members whose refused hello was logged as a warning already (a member again is forgotten here). */
  private readonly warnedStrangers = new Set<NodeId>();
  private readonly inbound = new Set<Socket>();
  /** The live incoming connection from each peer; a newer one replaces it. */
  private readonly inboundFrom = new Map<NodeId, Socket>();
  private readonly secret: PeerSecret | null;
  /** Incoming connections that have not finished their handshake. */
  private handshaking = 0;
  private closed = false;
  private readonly counts = {
    sent: zeroCounts(),
    received: zeroCounts(),
    dropped: zeroCounts(),
    bytesSent: 0,
    bytesReceived: 0,
    refusedConnections: 0,
    rejectedMessages: 0,
    writes: 0,
  };

  constructor(private readonly options: PeerTransportOptions) {
    this.id = options.id;
    this.logger = options.logger;
    this.onMessage = options.onMessage;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.secret = options.secret ? new PeerSecret(options.secret) : null;
    for (const [peer, address] of options.peers) if (peer !== this.id) this.addLink(peer, address);
    this.server = options.tls ? this.tlsServer(options.tls) : net.createServer((socket) => this.accept(socket));
  }

  private tlsServer(t: PeerTls): net.Server {
    const server = tls.createServer(
      { cert: t.cert, key: t.key, ca: t.ca, requestCert: true, rejectUnauthorized: true, handshakeTimeout: this.timeoutMs },
      (socket) => this.accept(socket),
    );
    // TCP connections before and during the TLS handshake: no more than the handshakes allowed plus one per peer.
    let open = 0;
    server.prependListener("connection", (raw: Socket) => {
      if (open >= (this.options.maxHandshakes ?? 64) + this.links.size) {
        this.counts.refusedConnections++;
        raw.destroy();
        return;
      }
      open++;
      raw.once("close", () => open--);
    });
    server.on("tlsClientError", (err: Error, socket: TLSSocket) => {
      // An untrusted certificate, no certificate, plain TCP, or a handshake that never finished.
      this.counts.refusedConnections++;
      this.logger.warn("peer_tls_refused", { remote: remoteOf(socket), error: err.message });
      // With a listener for this event, Node leaves the socket open (a handshake timeout included): close it here.
      socket.destroy();
    });
    return server;
  }

  /** Listens on the peer address, then starts dialling every peer. */
  async start(): Promise<void> {
    const { host, port } = this.options.listen;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: NodeJS.ErrnoException) =>
        reject(Object.assign(new Error(`cannot listen for peers on ${host}:${port}: ${err.message}`, { cause: err }), { code: err.code }));
      this.server.once("error", fail);
      this.server.listen(port, host, () => {
        this.server.off("error", fail);
        resolve();
      });
    });
    this.server.on("error", (err) => this.logger.error("peer_listener_error", { error: err.message }));
    this.started = true;
    for (const link of this.links.values()) link.start();
  }

  /**
   * The cluster's membership changed (src/server/membership.ts): dial the
   * new members, hang up on the ones that left (both directions; their
   * hellos are refused from now on), redial one whose address changed.
   */
  setPeers(peers: ReadonlyMap<NodeId, Address>): void {
    if (this.closed) return;
    for (const [peer, link] of [...this.links]) {
      const address = peers.get(peer);
      if (address !== undefined && sameAddress(address, this.peerAddresses.get(peer)!)) continue;
      link.close();
      this.links.delete(peer);
      this.peerAddresses.delete(peer);
      this.inboundFrom.get(peer)?.destroy();
      this.logger.info("peer_dropped", { peer });
    }
    for (const [peer, address] of peers) {
      if (peer === this.id || this.links.has(peer)) continue;
      this.warnedStrangers.delete(peer);
      this.addLink(peer, address);
      if (this.started) this.links.get(peer)!.start();
      this.logger.info("peer_added", { peer, address: `${address.host}:${address.port}` });
    }
  }

  /** The ids this node currently dials. */
  get peerIds(): NodeId[] {
    return [...this.links.keys()];
  }

  private addLink(peer: NodeId, address: Address): OutboundLink {
    const link = new OutboundLink({
      self: this.id,
      peer,
      address,
      localAddress: bindableAddress(this.options.listen.host),
      logger: this.logger,
      maxBufferedBytes: this.options.maxBufferedBytes ?? 64 * 1024 * 1024,
      reconnectMs: this.options.reconnectMs ?? { min: 50, max: 1000 },
      timeoutMs: this.timeoutMs,
      secret: this.secret,
      tls: this.options.tls ?? null,
    });
    this.links.set(peer, link);
    this.peerAddresses.set(peer, address);
    return link;
  }

  /** The address actually listened on (useful with port 0). */
  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** Sends if the peer can take it now; otherwise drops the message. Never waits, never throws for a slow or dead peer. */
  send(message: Message): void {
    const link = this.checkedLink(message);
    if (link === null) return;
    const size = encodedMessageSize(message);
    if (this.refuse(link, message, size, 0)) return;
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size);
    writeFrameHeader(frame, size);
    encodeMessageInto(message, frame, FRAME_HEADER_BYTES);
    link.write(frame);
    this.counts.sent[message.type]++;
    this.counts.writes++;
    this.counts.bytesSent += frame.length;
  }

  /**
   * Sends a batch (one Ready's messages): each peer's share is encoded into
   * one buffer and leaves in one socket write, instead of one write (one
   * syscall, one trip through the receiver's TCP stack) per message. Each
   * message is still dropped on its own terms, as send() would.
   */
  sendAll(messages: readonly Message[]): void {
    if (messages.length === 1) return this.send(messages[0]!);
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      const list = byPeer.get(m.to);
      if (list) list.push(m);
      else byPeer.set(m.to, [m]);
    }
    for (const list of byPeer.values()) {
      if (list.length === 1) {
        this.send(list[0]!);
        continue;
      }
      if (list.some((m) => m.from !== this.id)) this.checkedLink(list.find((m) => m.from !== this.id)!);
      const link = this.checkedLink(list[0]!);
      if (link === null) {
        for (let i = 1; i < list.length; i++) this.counts.dropped[list[i]!.type]++;
        continue;
      }
      const sizes: number[] = [];
      let total = 0;
      for (const m of list) {
        const size = encodedMessageSize(m);
        if (this.refuse(link, m, size, total)) {
          sizes.push(-1);
          continue;
        }
        sizes.push(size);
        total += FRAME_HEADER_BYTES + size;
      }
      if (total === 0) continue;
      const buf = Buffer.allocUnsafe(total);
      let offset = 0;
      for (let i = 0; i < list.length; i++) {
        const size = sizes[i]!;
        if (size < 0) continue;
        writeFrameHeader(buf, size, offset);
        encodeMessageInto(list[i]!, buf, offset + FRAME_HEADER_BYTES);
        offset += FRAME_HEADER_BYTES + size;
        this.counts.sent[list[i]!.type]++;
      }
      link.write(buf);
      this.counts.writes++;
      this.counts.bytesSent += total;
    }
  }

  /** The link to the message's addressee; null (the message counted as dropped) when it is not a member (any more). */
  private checkedLink(message: Message): OutboundLink | null {
    if (message.from !== this.id) throw new Error(`node ${this.id} cannot send a message from ${message.from}`);
    const link = this.links.get(message.to);
    if (link === undefined) {
      // A member that left (or one this node has not learnt of yet): like an unreachable peer, Raft copes.
      this.counts.dropped[message.type]++;
      this.logger.debug("peer_message_to_non_member", { peer: message.to, type: message.type });
      return null;
    }
    return link;
  }

  /** Whether a message of `size` bytes, after `ahead` bytes of the same write, is dropped (and counted so). */
  private refuse(link: OutboundLink, message: Message, size: number, ahead: number): boolean {
    if (!this.closed && size <= this.maxFrameBytes && link.canWrite(FRAME_HEADER_BYTES + size, ahead)) return false;
    if (size > this.maxFrameBytes) {
      this.logger.error("peer_message_too_large", { peer: message.to, type: message.type, size, maxFrameBytes: this.maxFrameBytes });
    }
    this.counts.dropped[message.type]++;
    return true;
  }

  /** True while the connection this node dialled to `peer` is up. */
  isConnected(peer: NodeId): boolean {
    return this.links.get(peer)?.connected ?? false;
  }

  get stats(): TransportStats {
    return this.counts;
  }

  /** Closes every connection and the listener. Later sends are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) link.close();
    for (const socket of this.inbound) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.handshaking >= (this.options.maxHandshakes ?? 64)) {
      // Strangers cannot hold more than this many sockets (and file descriptors); a real peer just redials.
      this.counts.refusedConnections++;
      this.logger.debug("peer_handshakes_full", { remote: remoteOf(socket) });
      socket.destroy();
      return;
    }
    this.handshaking++;
    this.inbound.add(socket);
    socket.setKeepAlive(true);
    /** Set once the other end proved who it is; until then no message is read. */
    let peer: NodeId | null = null;
    let hello: Hello | null = null;
    let listenerNonce: Buffer | null = null;
    let inHandshake = true;
    const handshakeOver = () => {
      if (!inHandshake) return;
      inHandshake = false;
      this.handshaking--;
    };
    socket.setTimeout(this.timeoutMs);
    socket.on("timeout", () => {
      this.logger.warn("peer_hello_timeout", { remote: remoteOf(socket) });
      socket.destroy();
    });
    socket.on("error", (err) => this.logger.debug("peer_inbound_error", { peer, error: err.message }));
    socket.on("close", () => {
      // Whatever ended it (a refusal, an oversized frame, a timeout, a hang-up), it never got to speak.
      if (peer === null) this.counts.refusedConnections++;
      handshakeOver();
      this.inbound.delete(socket);
      if (peer !== null && this.inboundFrom.get(peer) === socket) this.inboundFrom.delete(peer);
    });
    const decoder = readFrames(socket, {
      maxFrameBytes: HANDSHAKE_MAX_FRAME_BYTES,
      logger: this.logger,
      onTooLarge: (err) => {
        // From a member that proved who it is: a real fault. Before that: something that does not speak the peer protocol.
        if (peer !== null) this.logger.error("frame_too_large", { peer, remote: remoteOf(socket), size: err.size, maxFrameBytes: err.maxFrameBytes });
        else this.logger.warn("peer_hello_refused", { remote: remoteOf(socket), error: `the first bytes are not a raftkv peer hello (they announce a frame of ${err.size} bytes): is something else dialling the peer port?` });
      },
      onFrame: (frame) => {
        if (peer !== null) {
          this.receive(socket, peer, frame);
          return;
        }
        try {
          if (hello === null) {
            hello = this.checkHello(socket, frame);
            if (this.secret === null) {
              peer = this.admit(socket, hello);
            } else {
              listenerNonce = freshNonce();
              socket.write(encodeChallengeFrame(this.secret.challenge(hello, listenerNonce)));
              return;
            }
          } else {
            if (!this.secret!.verify(hello, listenerNonce!, frame)) throw new HandshakeError(`the connection claiming to be node ${hello.from} did not prove it holds the cluster secret`);
            peer = this.admit(socket, hello);
          }
        } catch (err) {
          if (!(err instanceof HandshakeError)) throw err;
          // A node that is not (or no longer) a member redials about once a second: one warning per such node, not per redial.
          const stranger = err.notMember;
          if (stranger === undefined || !this.warnedStrangers.has(stranger)) this.logger.warn("peer_hello_refused", { remote: remoteOf(socket), error: err.message });
          else this.logger.debug("peer_hello_refused", { remote: remoteOf(socket), error: err.message });
          if (stranger !== undefined) this.warnedStrangers.add(stranger);
          socket.destroy();
          return;
        }
        handshakeOver();
        socket.setTimeout(0);
        decoder.maxFrameBytes = this.maxFrameBytes;
      },
    });
  }

  /** The hello names this node and a member, from that member's host, and agrees about the secret; or a HandshakeError. */
  private checkHello(socket: Socket, frame: Buffer): Hello {
    const hello = decodeHello(frame);
    const { from } = hello;
    if (hello.to !== this.id) {
      throw new HandshakeError(`node ${from} dialled ${this.options.listen.host}:${this.options.listen.port} believing it is node ${hello.to}, but this is node ${this.id}: the cluster files disagree`);
    }
    const address = this.peerAddresses.get(from);
    if (from === this.id || address === undefined) {
      const refusal = new HandshakeError(`node ${from} is not a member of this node's cluster configuration`);
      refusal.notMember = from;
      throw refusal;
    }
    if (hello.auth !== (this.secret !== null)) {
      throw new HandshakeError(
        this.secret !== null
          ? `node ${from} has no cluster secret, this node has one: every node's cluster file must name the same secretFile`
          : `node ${from} has a cluster secret, this node has none: every node's cluster file must name the same secretFile`,
      );
    }
    // Without a secret the source address is all there is to go on: a node dials from its own peer host.
    if (this.secret === null && !sameHost(socket.remoteAddress, address.host)) {
      throw new HandshakeError(`a hello claiming to be node ${from} came from ${socket.remoteAddress ?? "?"}, but node ${from}'s peer host is ${address.host}`);
    }
    // With TLS, the certificate (signed by the CA, or the handshake failed) must name node `from`'s peer host.
    if (this.options.tls && !isWildcard(address.host)) {
      const cert = (socket as TLSSocket).getPeerCertificate();
      const mismatch = tls.checkServerIdentity(address.host, cert);
      if (mismatch !== undefined) {
        throw new HandshakeError(`a hello claiming to be node ${from} came with a certificate for ${cert.subjectaltname ?? cert.subject?.CN ?? "?"}, not for node ${from}'s peer host ${address.host}`);
      }
    }
    return hello;
  }

  /** The other end proved it is `hello.from`: its connection replaces any older one from it. */
  private admit(socket: Socket, hello: Hello): NodeId {
    const from = hello.from;
    // The peer dials again only after its previous connection failed, so an older one is dead even if we have not noticed yet.
    this.inboundFrom.get(from)?.destroy();
    this.inboundFrom.set(from, socket);
    this.logger.debug("peer_accepted", { peer: from, remote: remoteOf(socket), authenticated: this.secret !== null });
    return from;
  }

  private receive(socket: Socket, peer: NodeId, frame: Buffer): void {
    let message: Message;
    try {
      message = decodeMessage(frame);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      this.logger.warn("peer_bad_message", { peer, error: err.message });
      this.counts.rejectedMessages++;
      socket.destroy();
      return;
    }
    if (message.from !== peer || message.to !== this.id) {
      this.logger.warn("peer_misaddressed_message", { peer, from: message.from, to: message.to });
      this.counts.rejectedMessages++;
      socket.destroy();
      return;
    }
    this.counts.received[message.type]++;
    this.counts.bytesReceived += FRAME_HEADER_BYTES + frame.length;
    this.onMessage(message);
  }
}

function encodeChallengeFrame(challenge: Buffer): Buffer {
  if (challenge.length !== CHALLENGE_BYTES) throw new Error("bad challenge size");
  return encodeFrame(challenge);
}

/**
 * Whether a connection from `remote` can be from a node whose peer host is
 * `host`. A host name or a wildcard cannot be checked (anything passes); an
 * IP address must match, IPv4-mapped IPv6 forms included.
 */
export function sameHost(remote: string | undefined, host: string): boolean {
  if (net.isIP(host) === 0 || isWildcard(host)) return true;
  if (remote === undefined) return false;
  const strip = (a: string) => a.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
  return strip(remote) === strip(host);
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

/** The source address for outgoing connections: the listen host, unless it is a wildcard or a name. */
function bindableAddress(host: string): string | undefined {
  return net.isIP(host) !== 0 && host !== "0.0.0.0" && host !== "::" ? host : undefined;
}

function sameAddress(a: Address, b: Address): boolean {
  return a.host === b.host && a.port === b.port;
}

function zeroCounts(): Record<MessageType, number> {
  return {
    RequestVote: 0,
    RequestVoteResponse: 0,
    AppendEntries: 0,
    AppendEntriesResponse: 0,
    InstallSnapshot: 0,
    InstallSnapshotResponse: 0,
    TimeoutNow: 0,
    RecoveryQuery: 0,
    RecoveryReply: 0,
  };
}
