// How a raftkv reply and a redis-server reply must agree (generator.ts's Compare).

import type { Compare } from "./generator.js";

/** The items of a RESP2 array reply, as raw frames. */
function arrayItems(reply: string): string[] | null {
  if (!reply.startsWith("*")) return null;
  const items: string[] = [];
  const data = Buffer.from(reply, "latin1");
  const headerEnd = data.indexOf("\r\n") + 2;
  const count = Number(data.toString("latin1", 1, headerEnd - 2));
  let pos = headerEnd;
  for (let i = 0; i < count; i++) {
    const n = frameLengthOf(data, pos);
    items.push(data.toString("latin1", pos, pos + n));
    pos += n;
  }
  return items;
}

function frameLengthOf(data: Buffer, pos: number): number {
  const end = data.indexOf("\r\n", pos) + 2;
  if (data[pos] !== 0x24) return end - pos;
  const n = Number(data.toString("latin1", pos + 1, end - 2));
  return n < 0 ? end - pos : end + n + 2 - pos;
}

export function sameReply(compare: Compare, ours: string, theirs: string): boolean {
  if (compare === "exact" || ours === theirs) return ours === theirs;
  if (compare === "seconds" || compare === "milliseconds") {
    const m = /^:(-?\d+)\r\n$/;
    const a = m.exec(ours);
    const b = m.exec(theirs);
    if (a === null || b === null) return false;
    const [x, y] = [Number(a[1]), Number(b[1])];
    return x >= 0 && y >= 0 && Math.abs(x - y) <= (compare === "seconds" ? 2 : 2000);
  }
  if (compare === "scan") {
    const a = arrayItems(ours);
    const b = arrayItems(theirs);
    return a !== null && b !== null && a.length === 2 && b.length === 2 && a[0] === b[0] && sameReply("unordered", a[1]!, b[1]!);
  }
  const a = arrayItems(ours);
  const b = arrayItems(theirs);
  if (a === null || b === null) return false;
  return a.length === b.length && JSON.stringify(a.sort()) === JSON.stringify(b.sort());
}

