// A strict parser of the Prometheus text exposition format (0.0.4), for
// tests: it throws, naming the line, on anything a Prometheus server would
// refuse or that breaks the format's rules for histograms.

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  help: string | null;
  type: MetricType;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly string[] = ["counter", "gauge", "histogram", "summary", "untyped"];

export class ExpositionError extends Error {
  override readonly name = "ExpositionError";
}

export function parseExposition(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith("\n")) throw new ExpositionError("the text must end with a newline");
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, help: null, type: "untyped", samples: [] }));
    return f;
  };
  const lines = text.split("\n");
  lines.pop();
  lines.forEach((line, i) => {
    const where = `line ${i + 1} (${JSON.stringify(line)})`;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ""] = m;
      if (!METRIC_NAME.test(name!)) throw new ExpositionError(`${where}: bad metric name`);
      const f = family(name!);
      if (kind === "HELP") {
        if (f.help !== null) throw new ExpositionError(`${where}: second HELP for ${name}`);
        f.help = rest;
      } else {
        if (!TYPES.includes(rest.trim())) throw new ExpositionError(`${where}: unknown type '${rest}'`);
        if (f.samples.length > 0 || f.type !== "untyped") throw new ExpositionError(`${where}: TYPE must come once, before the samples`);
        f.type = rest.trim() as MetricType;
      }
      return;
    }
    const sample = parseSample(line, where);
    owner(families, sample.name, family).samples.push(sample);
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

/** The family a sample belongs to: its own name, or a histogram's/summary's base name for _bucket, _sum, _count. */
function owner(families: Map<string, Family>, name: string, family: (n: string) => Family): Family {
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m) {
    const base = families.get(m[1]!);
    if (base && (base.type === "histogram" || (base.type === "summary" && m[2] !== "bucket"))) return base;
  }
  return family(name);
}

function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+(-?\d+))?$/.exec(line);
  if (!m) throw new ExpositionError(`${where}: not a sample line`);
  const [, name, labelText, valueText] = m;
  return { name: name!, labels: labelText ? parseLabels(labelText.slice(1, -1), where) : {}, value: parseValue(valueText!, where) };
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const m = /^\s*([^=\s]+)\s*=\s*"/.exec(text.slice(i));
    if (!m) throw new ExpositionError(`${where}: bad label list`);
    const name = m[1]!;
    if (!LABEL_NAME.test(name)) throw new ExpositionError(`${where}: bad label name '${name}'`);
    if (name in labels) throw new ExpositionError(`${where}: label '${name}' twice`);
    i += m[0].length;
    let value = "";
    for (;;) {
      if (i >= text.length) throw new ExpositionError(`${where}: unterminated label value`);
      const c = text[i++]!;
      if (c === '"') break;
      if (c !== "\\") {
        value += c;
        continue;
      }
      const e = text[i++];
      if (e === "n") value += "\n";
      else if (e === "\\" || e === '"') value += e;
      else throw new ExpositionError(`${where}: bad escape '\\${e ?? ""}' in a label value`);
    }
    labels[name] = value;
    const rest = /^\s*(,|$)/.exec(text.slice(i));
    if (!rest) throw new ExpositionError(`${where}: expected ',' after label '${name}'`);
    i += rest[0].length;
  }
  return labels;
}

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new ExpositionError(`${where}: bad value '${text}'`);
  return Number(text);
}

/** Buckets ascending by le, counts cumulative, the last bucket +Inf and equal to _count; _sum present. */
function checkHistogram(f: Family): void {
  const buckets = f.samples.filter((s) => s.name === `${f.name}_bucket`);
  const count = f.samples.filter((s) => s.name === `${f.name}_count`);
  const sum = f.samples.filter((s) => s.name === `${f.name}_sum`);
  const other = f.samples.filter((s) => !buckets.includes(s) && !count.includes(s) && !sum.includes(s));
  if (other.length > 0) throw new ExpositionError(`histogram ${f.name}: unexpected sample ${other[0]!.name}`);
  if (count.length !== 1 || sum.length !== 1) throw new ExpositionError(`histogram ${f.name}: needs exactly one _count and one _sum (this test parser handles unlabelled histograms)`);
  if (buckets.length === 0) throw new ExpositionError(`histogram ${f.name}: no buckets`);
  let prevLe = -Infinity;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.labels.le === undefined) throw new ExpositionError(`histogram ${f.name}: a bucket without le`);
    const le = parseValue(b.labels.le, `bucket le="${b.labels.le}"`);
    if (!(le > prevLe)) throw new ExpositionError(`histogram ${f.name}: bucket le="${b.labels.le}" is not above the one before`);
    if (b.value < prevCount) throw new ExpositionError(`histogram ${f.name}: bucket le="${b.labels.le}" has ${b.value}, fewer than the bucket before (${prevCount}): buckets must be cumulative`);
    prevLe = le;
    prevCount = b.value;
  }
  if (prevLe !== Infinity) throw new ExpositionError(`histogram ${f.name}: the last bucket must be le="+Inf"`);
  if (prevCount !== count[0]!.value) throw new ExpositionError(`histogram ${f.name}: the +Inf bucket (${prevCount}) must equal _count (${count[0]!.value})`);
}

/** The one sample of `name` whose labels include `labels`. */
export function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  for (const f of families.values())
    for (const s of f.samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
  throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
}
