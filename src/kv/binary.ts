// Little binary writer/reader for the log command and snapshot formats:
// unsigned LEB128 varints (for lengths, ids and indexes up to 2^53) and
// length-prefixed byte strings. No JSON, no base64.

export class DecodeError extends Error {
  override readonly name = "DecodeError";
}

export class ByteWriter {
  private buf: Buffer;
  private length = 0;

  /** `capacity`: expected size; the buffer grows if it was too small. */
  constructor(capacity = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 16));
  }

  u8(value: number): void {
    this.reserve(1);
    this.buf[this.length++] = value;
  }

  /** A non-negative safe integer, LEB128. */
  varint(value: number): void {
    this.reserve(8);
    while (value >= 0x80) {
      this.buf[this.length++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.length++] = value;
  }

  i64(value: bigint): void {
    this.reserve(8);
    this.buf.writeBigInt64LE(value, this.length);
    this.length += 8;
  }

  /** A length-prefixed byte string. */
  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.raw(value);
  }

  /** Bytes as they are, with no length prefix. */
  raw(value: Uint8Array): void {
    this.reserve(value.length);
    this.buf.set(value, this.length);
    this.length += value.length;
  }

  /** A length-prefixed byte string given as latin1 text (one byte per char). */
  latin1(value: string): void {
    this.varint(value.length);
    this.reserve(value.length);
    this.length += this.buf.write(value, this.length, "latin1");
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
}

export class ByteReader {
  private readonly data: Buffer;
  private pos = 0;

  constructor(data: Uint8Array) {
    this.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  get done(): boolean {
    return this.pos === this.data.length;
  }

  u8(): number {
    this.need(1);
    return this.data[this.pos++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let shift = 0; ; shift += 7) {
      if (shift > 49) throw new DecodeError(`varint too long at offset ${this.pos}`);
      const b = this.u8();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
    }
  }

  i64(): bigint {
    this.need(8);
    const value = this.data.readBigInt64LE(this.pos);
    this.pos += 8;
    return value;
  }

  /** The next `n` bytes, as a view into the input. */
  raw(n: number): Buffer {
    this.need(n);
    const value = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return value;
  }

  /** A length-prefixed byte string, as a view into the input (not a copy). */
  bytes(): Buffer {
    return this.raw(this.varint());
  }

  latin1(): string {
    const length = this.varint();
    this.need(length);
    const value = this.data.toString("latin1", this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  private need(n: number): void {
    if (this.pos + n > this.data.length) {
      throw new DecodeError(`truncated: needs ${n} byte(s) at offset ${this.pos} of ${this.data.length}`);
    }
  }
}
