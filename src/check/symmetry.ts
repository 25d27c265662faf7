// Interchangeable operations. Two operations with an unknown outcome and
// equal inputs have the same effect, and once both have been called no time
// constraint tells them apart either; so applying one or the other leads to
// the same futures, and the search only ever applies the earlier-called one
// of such a pair. Without this, N lost INCRs of one counter give 2^N
// configurations where N+1 suffice.

/**
 * For each operation, the previous operation (in `order`) among `candidates`
 * whose input is equal to its own, or -1.
 */
export function previousEqualInput(
  inputs: readonly unknown[],
  candidates: Uint8Array,
  order: readonly number[],
): Int32Array {
  const previous = new Int32Array(inputs.length).fill(-1);
  const last = new Map<string, number>();
  for (const id of order) {
    if (candidates[id] !== 1) continue;
    const key = canonical(inputs[id]);
    if (key === null) continue;
    const before = last.get(key);
    if (before !== undefined) previous[id] = before;
    last.set(key, id);
  }
  return previous;
}

/**
 * A string equal for structurally equal plain data (primitives, arrays,
 * plain objects, in any key order), or null for anything else: of a class
 * instance, a Map or a function we cannot tell what equality means, so such
 * an input is equal to no other.
 */
function canonical(value: unknown): string | null {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "boolean":
      return String(value);
    case "undefined":
      return "undefined";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) {
        const items = value.map(canonical);
        return items.includes(null) ? null : `[${items.join(",")}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return null;
      const fields: string[] = [];
      for (const name of Object.keys(value).sort()) {
        const field = canonical((value as Record<string, unknown>)[name]);
        if (field === null) return null;
        fields.push(`${JSON.stringify(name)}:${field}`);
      }
      return `{${fields.join(",")}}`;
    }
    default:
      return null;
  }
}
