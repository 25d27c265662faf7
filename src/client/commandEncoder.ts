// A command as the server reads it: a RESP2 array of bulk strings, built in
// one Buffer (one allocation, one socket write per command).

/** A command argument: text (sent as UTF-8) or raw bytes. */
export type Arg = string | Uint8Array;

export function encodeCommand(args: readonly Arg[]): Buffer {
  let length = headerLength(args.length);
  for (const arg of args) {
    const n = typeof arg === "string" ? Buffer.byteLength(arg, "utf8") : arg.length;
    length += headerLength(n) + n + 2;
  }
  const out = Buffer.allocUnsafe(length);
  let offset = writeHeader(out, 0, 0x2a /* * */, args.length);
  for (const arg of args) {
    if (typeof arg === "string") {
      offset = writeHeader(out, offset, 0x24 /* $ */, Buffer.byteLength(arg, "utf8"));
      offset += out.write(arg, offset, "utf8");
    } else {
      offset = writeHeader(out, offset, 0x24, arg.length);
      out.set(arg, offset);
      offset += arg.length;
    }
    out[offset++] = 0x0d;
    out[offset++] = 0x0a;
  }
  return out;
}

/** "*N\r\n" or "$N\r\n". */
function headerLength(n: number): number {
  return String(n).length + 3;
}

function writeHeader(out: Buffer, offset: number, prefix: number, n: number): number {
  out[offset++] = prefix;
  offset += out.write(String(n), offset, "latin1");
  out[offset++] = 0x0d;
  out[offset++] = 0x0a;
  return offset;
}
