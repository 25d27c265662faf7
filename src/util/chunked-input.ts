// The input side shared by the RESP parsers (requests on the server, replies
// in the client): bytes arrive in chunks of any size; the parser reads `buf`
// from `pos`; chunks that arrive while a parse is incomplete wait in a list
// and are joined to the unparsed rest only when parsing can go on, so a
// stream of small chunks is not copied again and again.

const EMPTY = Buffer.alloc(0);

export abstract class ChunkedInput {
  /** Received bytes; those before `pos` are parsed. */
  protected buf: Buffer = EMPTY;
  protected pos = 0;
  /** Chunks received since parsing last stopped for want of input, not yet joined to `buf`. */
  private pending: Buffer[] = [];
  protected pendingBytes = 0;

  /** Keeps `chunk` (by reference: its memory must not be reused). */
  protected take(chunk: Buffer): void {
    if (this.pos === this.buf.length && this.pendingBytes === 0) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
  }

  /** Bytes received and not parsed yet. */
  protected get unparsedBytes(): number {
    return this.buf.length - this.pos + this.pendingBytes;
  }

  /** Makes every received byte readable from `buf` at `pos`. */
  protected join(): void {
    if (this.pendingBytes === 0) return;
    const rest = this.buf.subarray(this.pos);
    this.buf =
      rest.length === 0 && this.pending.length === 1
        ? this.pending[0]!
        : Buffer.concat([rest, ...this.pending], rest.length + this.pendingBytes);
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
  }
}
