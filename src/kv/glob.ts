// Redis's glob-style patterns (util.c, stringmatchlen), as CONFIG GET (no
// case), KEYS and SCAN MATCH (with case) use them: * ? [abc] [^abc] [a-z] and \ to escape. Written as the
// classic iterative matcher (backtrack to the last *), so time is bounded by
// pattern length × text length whatever the pattern.

/** True when the text has one of Redis's glob characters; otherwise CONFIG GET looks the name up exactly. */
export function isGlob(pattern: string): boolean {
  return /[[*?]/.test(pattern);
}

/** `nocase`: CONFIG GET matches without case; KEYS and SCAN MATCH with it. */
export function globMatch(pattern: string, text: string, nocase = true): boolean {
  const p = nocase ? pattern.toLowerCase() : pattern;
  const t = nocase ? text.toLowerCase() : text;
  let pi = 0;
  let ti = 0;
  let starP = -1;
  let starT = 0;
  while (ti < t.length) {
    if (pi < p.length && p[pi] === "*") {
      starP = ++pi;
      starT = ti;
      continue;
    }
    const step = pi < p.length ? matchOne(p, pi, t[ti]!) : -1;
    if (step > 0) {
      pi += step;
      ti++;
    } else if (starP >= 0) {
      pi = starP;
      ti = ++starT;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === "*") pi++;
  return pi === p.length;
}

/** If the pattern element at `pi` matches `c`, the element's length; otherwise -1. */
function matchOne(p: string, pi: number, c: string): number {
  const head = p[pi]!;
  if (head === "?") return 1;
  if (head === "\\" && pi + 1 < p.length) return p[pi + 1] === c ? 2 : -1;
  if (head !== "[") return head === c ? 1 : -1;
  let i = pi + 1;
  const negate = p[i] === "^";
  if (negate) i++;
  let matched = false;
  // An unterminated class runs to the end of the pattern, as in Redis.
  while (i < p.length && p[i] !== "]") {
    if (p[i] === "\\" && i + 1 < p.length) {
      if (p[i + 1] === c) matched = true;
      i += 2;
    } else if (i + 2 < p.length && p[i + 1] === "-") {
      const [lo, hi] = p[i]! <= p[i + 2]! ? [p[i]!, p[i + 2]!] : [p[i + 2]!, p[i]!];
      if (c >= lo && c <= hi) matched = true;
      i += 3;
    } else {
      if (p[i] === c) matched = true;
      i++;
    }
  }
  return matched !== negate ? Math.min(i + 1, p.length) - pi : -1;
}
