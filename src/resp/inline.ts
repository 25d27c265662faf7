// Inline commands ("SET foo bar\r\n", as typed into telnet or nc) are split
// into arguments exactly like Redis's sdssplitargs (sds.c): blanks separate
// arguments; "double quotes" understand \n \r \t \b \a \xHH and \<any>;
// 'single quotes' understand only \'; a closing quote must be followed by a
// blank or the end of the line. Redis works on a C string, so the line ends
// at its first NUL byte.

const NUL = 0x00;
const BACKSLASH = 0x5c;
const DQUOTE = 0x22;
const SQUOTE = 0x27;

/** Splits one inline line (without its line ending). Returns null when its quotes are unbalanced. */
export function splitInlineArgs(line: Uint8Array): Buffer[] | null {
  const nul = line.indexOf(NUL);
  const end = nul === -1 ? line.length : nul;
  const at = (i: number): number => (i < end ? line[i]! : NUL);
  const args: Buffer[] = [];
  // A token is never longer than the rest of the line, so one scratch buffer fits any of them.
  const scratch = Buffer.allocUnsafe(end);
  let p = 0;
  for (;;) {
    while (p < end && isSpace(line[p]!)) p++;
    if (p >= end) return args;
    let length = 0;
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      const c = at(p);
      if (inDouble) {
        if (c === BACKSLASH && at(p + 1) === 0x78 /* x */ && isHex(at(p + 2)) && isHex(at(p + 3))) {
          scratch[length++] = hexValue(at(p + 2)) * 16 + hexValue(at(p + 3));
          p += 3;
        } else if (c === BACKSLASH && at(p + 1) !== NUL) {
          p++;
          scratch[length++] = unescape(at(p));
        } else if (c === DQUOTE) {
          if (at(p + 1) !== NUL && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === NUL) {
          return null;
        } else {
          scratch[length++] = c;
        }
      } else if (inSingle) {
        if (c === BACKSLASH && at(p + 1) === SQUOTE) {
          p++;
          scratch[length++] = SQUOTE;
        } else if (c === SQUOTE) {
          if (at(p + 1) !== NUL && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === NUL) {
          return null;
        } else {
          scratch[length++] = c;
        }
      } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === NUL) {
        done = true;
      } else if (c === DQUOTE) {
        inDouble = true;
      } else if (c === SQUOTE) {
        inSingle = true;
      } else {
        scratch[length++] = c;
      }
      if (at(p) !== NUL) p++;
    }
    args.push(Buffer.from(scratch.subarray(0, length)));
  }
}

/** C's isspace() in the "C" locale. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function hexValue(c: number): number {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}

function unescape(c: number): number {
  switch (c) {
    case 0x6e: // n
      return 0x0a;
    case 0x72: // r
      return 0x0d;
    case 0x74: // t
      return 0x09;
    case 0x62: // b
      return 0x08;
    case 0x61: // a
      return 0x07;
    default:
      return c;
  }
}
