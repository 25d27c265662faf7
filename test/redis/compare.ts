// How a raftkv reply and a redis-server reply must agree (generator.ts's Compare).

import type { Compare } from "./generator.js";
import { frameLength } from "./resp.js";

/** The items of a RESP2 array reply, as raw frames. */
function arrayItems(reply: string): string[] | null {
  if (!reply.startsWith("*")) return null;
  const items: string[] = [];
  const data = Buffer.from(reply, "latin1");
  const headerEnd = data.indexOf("\r\n") + 2;
  const count = Number(data.toString("latin1", 1, headerEnd - 2));
  let pos = headerEnd;
  for (let i = 0; i < count; i++) {
    const n = frameLength(data, pos);
    items.push(data.toString("latin1", pos, pos + n));
    pos += n;
  }
  return items;
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
  if (compare === "exec") {
    // A transaction's replies: each the same, or (KEYS, SCAN inside it) the same but for Redis's hash-table order.
    const a = arrayItems(ours);
    const b = arrayItems(theirs);
    if (a === null || b === null || a.length !== b.length) return false;
    return a.every((x, i) => sameReply("unordered", x, b[i]!) || sameReply("scan", x, b[i]!));
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

