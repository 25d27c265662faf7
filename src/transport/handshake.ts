// How a peer connection opens (docs/SECURITY.md).
//
// The dialler D sends a hello: who it is, whom it believes it dialled,
// whether it holds the cluster secret, and a fresh random nonce.
//
//   hello      D -> L   magic "RKVP" (4), version u8, from u32, to u32, flags u8, nonce (32)
//
// Without a cluster secret that is all: the listener L checks the ids (and
// the source address) and the messages follow. With one, a challenge and a
// response prove to each side that the other holds the secret, bound to both
// nonces, both ids and the direction, so nothing recorded from another
// connection can be replayed or reflected:
//
//   challenge  L -> D   nonce (32), HMAC(secret, "L" | from | to | nonceD | nonceL)
//   proof      D -> L   HMAC(secret, "D" | from | to | nonceD | nonceL)
//
// Only after the proof does L take messages on the connection, and only
// messages whose sender is the node that proved itself. The exchange
// authenticates the two ends, not each byte after it: an attacker who can
// rewrite traffic on the path between two nodes is out of its reach.

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { NodeId } from "../core/types.js";

const MAGIC = 0x524b5650; // "RKVP"
const VERSION = 2;
export const NONCE_BYTES = 32;
const PROOF_BYTES = 32; // SHA-256
const HELLO_BYTES = 4 + 1 + 4 + 4 + 1 + NONCE_BYTES;
export const CHALLENGE_BYTES = NONCE_BYTES + PROOF_BYTES;
/** The largest frame either side accepts before the other has proved itself. */
export const HANDSHAKE_MAX_FRAME_BYTES = 64;

const FLAG_AUTH = 1;

export interface Hello {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The dialler holds a cluster secret and expects a challenge. */
  readonly auth: boolean;
  readonly nonce: Buffer;
}

/** The first frames were not a handshake this node accepts. */
export class HandshakeError extends Error {
  override readonly name = "HandshakeError";
  /** Set when the refusal is that node `notMember` is not a member of this node's configuration. */
  notMember?: number;
}

export function freshNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** The hello payload (frame it before sending). */
export function encodeHello(hello: Omit<Hello, "nonce" | "auth"> & Partial<Pick<Hello, "nonce" | "auth">>): Buffer {
  const buf = Buffer.alloc(HELLO_BYTES);
  let offset = buf.writeUInt32BE(MAGIC, 0);
  offset = buf.writeUInt8(VERSION, offset);
  offset = buf.writeUInt32BE(hello.from, offset);
  offset = buf.writeUInt32BE(hello.to, offset);
  offset = buf.writeUInt8(hello.auth ? FLAG_AUTH : 0, offset);
  (hello.nonce ?? freshNonce()).copy(buf, offset);
  return buf;
}

export function decodeHello(frame: Buffer): Hello {
  if (frame.length < 5 || frame.readUInt32BE(0) !== MAGIC) {
    throw new HandshakeError("the first frame is not a raftkv peer hello (is something else dialling the peer port?)");
  }
  const version = frame.readUInt8(4);
  if (version !== VERSION) throw new HandshakeError(`peer speaks protocol version ${version}, this node speaks ${VERSION}`);
  if (frame.length !== HELLO_BYTES) throw new HandshakeError(`a version ${VERSION} hello has ${HELLO_BYTES} bytes, this one ${frame.length}`);
  const flags = frame.readUInt8(13);
  return { from: frame.readUInt32BE(5), to: frame.readUInt32BE(9), auth: (flags & FLAG_AUTH) !== 0, nonce: Buffer.from(frame.subarray(14, 14 + NONCE_BYTES)) };
}

/** The HMAC computations of the handshake, keyed by the cluster secret. */
export class PeerSecret {
  constructor(private readonly secret: Buffer) {
    if (secret.length === 0) throw new Error("the cluster secret is empty");
  }

  /** What the listener sends back: its nonce and its proof. */
  challenge(hello: Hello, listenerNonce: Buffer): Buffer {
    return Buffer.concat([listenerNonce, this.mac("L", hello, listenerNonce)]);
  }

  /** The dialler's check of a challenge; returns its own proof, or null if the listener does not hold the secret. */
  answer(hello: Hello, challenge: Buffer): Buffer | null {
    if (challenge.length !== CHALLENGE_BYTES) return null;
    const listenerNonce = challenge.subarray(0, NONCE_BYTES);
    if (!timingSafeEqual(challenge.subarray(NONCE_BYTES), this.mac("L", hello, listenerNonce))) return null;
    return this.mac("D", hello, listenerNonce);
  }

  /** The listener's check of the dialler's proof. */
  verify(hello: Hello, listenerNonce: Buffer, proof: Buffer): boolean {
    return proof.length === PROOF_BYTES && timingSafeEqual(proof, this.mac("D", hello, listenerNonce));
  }

  private mac(side: "L" | "D", hello: Hello, listenerNonce: Uint8Array): Buffer {
    const ids = Buffer.alloc(8);
    ids.writeUInt32BE(hello.from, 0);
    ids.writeUInt32BE(hello.to, 4);
    return createHmac("sha256", this.secret).update(`raftkv peer v${VERSION} ${side}`).update(ids).update(hello.nonce).update(listenerNonce).digest();
  }
}
