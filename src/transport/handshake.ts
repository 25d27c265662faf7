// The first frame on every peer connection: who is dialling, and whom it
// believes it dialled. It lets the receiver refuse strangers and catch a
// cluster file that maps an address to the wrong node id.
//
//   magic "RKVP" (4 bytes), version u8, from u32, to u32

import type { NodeId } from "../core/types.js";

const MAGIC = 0x524b5650; // "RKVP"
const VERSION = 1;
const HELLO_BYTES = 4 + 1 + 4 + 4;

export interface Hello {
  readonly from: NodeId;
  readonly to: NodeId;
}

/** The first frame was not a hello this build understands. */
export class HandshakeError extends Error {
  override readonly name = "HandshakeError";
}

/** The hello payload (frame it before sending). */
export function encodeHello(hello: Hello): Buffer {
  const buf = Buffer.allocUnsafe(HELLO_BYTES);
  let offset = buf.writeUInt32BE(MAGIC, 0);
  offset = buf.writeUInt8(VERSION, offset);
  offset = buf.writeUInt32BE(hello.from, offset);
  buf.writeUInt32BE(hello.to, offset);
  return buf;
}

export function decodeHello(frame: Buffer): Hello {
  if (frame.length !== HELLO_BYTES || frame.readUInt32BE(0) !== MAGIC) {
    throw new HandshakeError("the first frame is not a raftkv peer hello (is something else dialling the peer port?)");
  }
  const version = frame.readUInt8(4);
  if (version !== VERSION) throw new HandshakeError(`peer speaks protocol version ${version}, this node speaks ${VERSION}`);
  return { from: frame.readUInt32BE(5), to: frame.readUInt32BE(9) };
}
