// Redis's notion of "an integer" (util.c, string2ll): optional "-", then
// digits, no leading zeros, no "+", no spaces, no "-0", within signed 64 bits,
// at most 20 characters. Both the protocol (lengths in frame headers) and the
// commands (INCR's stored value, INCRBY's argument) use exactly this rule, so
// "value is not an integer" means the same thing here as in Redis.

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** Longest accepted text: "-9223372036854775808" (Redis's LONG_STR_SIZE - 1). */
const MAX_CHARS = 20;
/** Up to this many digits a double holds the value exactly. */
const SAFE_DIGITS = 15;

/**
 * Parses `bytes[start, end)` as Redis does. Returns a number when the value
 * is a safe integer, a bigint when it is a valid int64 beyond that, and null
 * when the text is not a valid integer.
 */
export function parseInteger(bytes: Uint8Array, start = 0, end = bytes.length): number | bigint | null {
  const length = end - start;
  if (length === 0 || length > MAX_CHARS) return null;
  if (length === 1 && bytes[start] === 0x30) return 0;
  const negative = bytes[start] === 0x2d;
  let p = negative ? start + 1 : start;
  if (p === end) return null;
  const first = bytes[p]!;
  if (first < 0x31 || first > 0x39) return null;
  let value = 0;
  for (; p < end; p++) {
    const c = bytes[p]!;
    if (c < 0x30 || c > 0x39) return null;
    value = value * 10 + (c - 0x30);
  }
  const digits = negative ? length - 1 : length;
  if (digits <= SAFE_DIGITS) return negative ? -value : value;
  const big = BigInt(Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString("latin1"));
  if (big > INT64_MAX || big < INT64_MIN) return null;
  return Number.isSafeInteger(Number(big)) ? Number(big) : big;
}

/** Like parseInteger, but always a bigint (for 64-bit arithmetic). */
export function parseInt64(bytes: Uint8Array): bigint | null {
  const v = parseInteger(bytes);
  return v === null ? null : BigInt(v);
}
