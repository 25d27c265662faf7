// Size-prefixed framing: TCP delivers a byte stream in arbitrary fragments,
// so each message travels as one frame — a 4-byte big-endian length, then
// that many bytes — and the receiver hands back exactly the frames that were
// sent, whole and in order.

import type { Socket } from "node:net";
import type { Logger } from "../util/log.js";

export const FRAME_HEADER_BYTES = 4;

/** The largest length the 4-byte header can carry. */
const MAX_ENCODABLE = 0xffff_ffff;

/** A peer announced a frame larger than this side accepts; the stream cannot be trusted any further. */
export class FrameTooLargeError extends Error {
  override readonly name = "FrameTooLargeError";
  constructor(
    readonly size: number,
    readonly maxFrameBytes: number,
  ) {
    super(`frame of ${size} bytes exceeds the limit of ${maxFrameBytes} bytes`);
  }
}

/** Writes the header for a payload of `payloadLength` bytes at `offset` (payload follows at offset + 4). */
export function writeFrameHeader(buf: Buffer, payloadLength: number, offset = 0): void {
  if (payloadLength > MAX_ENCODABLE) throw new FrameTooLargeError(payloadLength, MAX_ENCODABLE);
  buf.writeUInt32BE(payloadLength, offset);
}

/** One frame holding a copy of `payload`. Hot paths encode straight into a buffer with room for the header instead. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(frame, payload.length);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Reassembles frames from stream chunks. A frame that lies whole inside one
 * chunk is returned as a view of that chunk (no copy); a frame spread over
 * chunks is copied once into a buffer of its exact size.
 */
export class FrameDecoder {
  private readonly header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  private headerFilled = 0;
  /** The frame being filled across chunks, once its header is known. */
  private body: Buffer | null = null;
  private bodyFilled = 0;

  /** May be changed at any time (even from onFrame, e.g. once the other side has identified itself); applies from the next header. */
  constructor(public maxFrameBytes: number) {}

  /**
   * Consumes a chunk, calling `onFrame` for each frame it completes, in order.
   * Throws FrameTooLargeError at an oversized header (after delivering the
   * frames before it); the stream is unusable after that.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.body === null) {
        if (this.headerFilled === 0 && chunk.length - offset >= FRAME_HEADER_BYTES) {
          const length = this.checkedLength(chunk.readUInt32BE(offset));
          offset += FRAME_HEADER_BYTES;
          if (chunk.length - offset >= length) {
            onFrame(chunk.subarray(offset, offset + length));
            offset += length;
            continue;
          }
          this.startBody(length);
        } else {
          const n = Math.min(FRAME_HEADER_BYTES - this.headerFilled, chunk.length - offset);
          chunk.copy(this.header, this.headerFilled, offset, offset + n);
          this.headerFilled += n;
          offset += n;
          if (this.headerFilled < FRAME_HEADER_BYTES) break;
          this.headerFilled = 0;
          this.startBody(this.checkedLength(this.header.readUInt32BE(0)));
        }
      }
      const body = this.body!;
      const n = Math.min(body.length - this.bodyFilled, chunk.length - offset);
      chunk.copy(body, this.bodyFilled, offset, offset + n);
      this.bodyFilled += n;
      offset += n;
      if (this.bodyFilled === body.length) {
        this.body = null;
        onFrame(body);
      }
    }
  }

  private checkedLength(length: number): number {
    if (length > this.maxFrameBytes) throw new FrameTooLargeError(length, this.maxFrameBytes);
    return length;
  }

  private startBody(length: number): void {
    this.body = Buffer.allocUnsafe(length);
    this.bodyFilled = 0;
  }
}

export interface FrameReaderOptions {
  readonly maxFrameBytes: number;
  readonly logger: Logger;
  /** Called for each frame in order. The frame may be a view of a socket chunk: copy what you keep for long. */
  readonly onFrame: (frame: Buffer) => void;
  /** Logs an oversized frame instead of the default error line "frame_too_large" (the connection is closed either way). */
  readonly onTooLarge?: (err: FrameTooLargeError) => void;
}

/**
 * Delivers a socket's frames to `onFrame`. An oversized frame closes the
 * connection (after it, the byte stream has no trustworthy boundaries) and is
 * logged. Returns the decoder, whose limit `onFrame` may change as it goes.
 */
export function readFrames(socket: Socket, options: FrameReaderOptions): FrameDecoder {
  const decoder = new FrameDecoder(options.maxFrameBytes);
  const onFrame = (frame: Buffer) => {
    // The owner may have closed the connection over an earlier frame of the same chunk.
    if (!socket.destroyed) options.onFrame(frame);
  };
  socket.on("data", (chunk: Buffer) => {
    try {
      decoder.push(chunk, onFrame);
    } catch (err) {
      if (!(err instanceof FrameTooLargeError)) throw err;
      // Closed over an earlier frame of the same chunk (a refused hello): that was the reason, not what followed it.
      if (socket.destroyed) return;
      if (options.onTooLarge) options.onTooLarge(err);
      else options.logger.error("frame_too_large", { remote: remoteOf(socket), size: err.size, maxFrameBytes: err.maxFrameBytes });
      socket.destroy();
    }
  });
  return decoder;
}

/** "host:port" of the other end, for logs. */
export function remoteOf(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}
