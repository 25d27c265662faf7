// CRC-32 (the zlib/PNG polynomial) of WAL records and snapshot files.
// node:zlib computes it natively from Node 20.15; older Node 20 releases get
// the classic table-driven version, which yields the same values.

import zlib from "node:zlib";

let table: Uint32Array | null = null;

/** Table-driven CRC-32; `value` continues a previous result. */
export function crc32Table(data: Uint8Array, value = 0): number {
  table ??= makeTable();
  let crc = ~value;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

export const crc32: (data: Uint8Array, value?: number) => number = typeof zlib.crc32 === "function" ? zlib.crc32 : crc32Table;
