// Quint's evaluator in this process: load a module of spec/ once, then
// evaluate actions and expressions one at a time against its state, as
// Quint's REPL does, without starting a process per trace. Trace validation
// (validate.ts) takes thousands of steps per run; a `quint` process per run
// would spend most of its time starting and parsing.
//
// This uses Quint's internal modules (parser, name resolver, evaluator) of
// the pinned development dependency (@informalsystems/quint 0.33.1, see
// package.json); they are not a public API, so a Quint upgrade may need this
// file changed. It is the same sequence of calls as Quint's own REPL
// (dist/src/repl.js, tryEval).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { decode, type Value } from "./itf.js";
import { ROOT, SPEC_DIR } from "./quint.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

const QUINT = join(createRequire(join(ROOT, "package.json")).resolve("@informalsystems/quint/package.json"), "..", "dist", "src");
const load = (m: string): Any => createRequire(join(ROOT, "package.json"))(join(QUINT, m));

const frontend = load("parsing/quintParserFrontend.js");
const sources = load("parsing/sourceResolver.js");
const { Evaluator } = load("runtime/impl/evaluator.js");
const { newTraceRecorder } = load("runtime/trace.js");
const { newRng } = load("rng.js");
const { newIdGenerator } = load("idGenerator.js");
const { walkExpression } = load("ir/IRVisitor.js");
const { toItf } = load("itf.js");
const { zerog } = load("idGenerator.js");

export class QuintError extends Error {}

/** A Quint module of spec/, loaded once; `fresh()` gives an evaluator at no state. */
export class QuintModule {
  private readonly idGen: Any;
  private readonly parsed: Any;
  private readonly cache = new Map<string, Any>();

  constructor(file: string, readonly main: string) {
    const path = join(SPEC_DIR, file);
    const text = readFileSync(path, "utf8");
    const sourceCode = new Map<string, string>();
    this.idGen = newIdGenerator();
    const mainPath = sources.fileSourceResolver(sourceCode).lookupPath(dirname(path), basename(path));
    this.parsed = frontend.parse(this.idGen, mainPath.toSourceName(), mainPath, text, sourceCode);
    if (this.parsed.errors.length > 0) throw new QuintError(`${file}: ${JSON.stringify(this.parsed.errors.slice(0, 3))}`);
    this.parsed.resolver.switchToModule(main);
  }

  /** Parses and resolves an expression in the main module (cached by text: a state read is parsed once). */
  expr(text: string, cache = false): Any {
    const hit = this.cache.get(text);
    if (hit) return hit;
    const p = frontend.parseExpressionOrDeclaration(text, "<validate>", this.idGen, this.parsed.sourceMap);
    if (p.kind !== "expr") throw new QuintError(`not an expression: ${text.slice(0, 200)}: ${JSON.stringify(p.errors ?? p.kind, bigints)}`);
    const resolver = this.parsed.resolver;
    walkExpression(resolver, p.expr);
    if (resolver.errors.length > 0) {
      const errors = JSON.stringify(resolver.errors, bigints);
      resolver.errors = [];
      throw new QuintError(`${text.slice(0, 200)}: ${errors}`);
    }
    if (cache) {
      // Actions without a message in them repeat (feedTick(1, 6), readyAt(2)): parsed once.
      if (this.cache.size > 5000) this.cache.clear();
      this.cache.set(text, p.expr);
    }
    return p.expr;
  }

  fresh(): QuintState {
    return new QuintState(this, new Evaluator(this.parsed.resolver.table, newTraceRecorder(0, newRng(1n)), newRng(1n)));
  }

  get table(): Any {
    return this.parsed.resolver.table;
  }
}

/** One evaluation context: the spec's current state, moved on by actions. */
export class QuintState {
  constructor(
    private readonly module: QuintModule,
    private readonly evaluator: Any,
  ) {}

  /** Evaluates an action: true (and the state moves on) if it is enabled, false (the state stays) if not. */
  act(text: string): boolean {
    const ex = this.module.expr(text, text.length < 40);
    this.evaluator.updateTable(this.module.table);
    const r = this.evaluator.evaluate(ex);
    if (r.isLeft()) throw new QuintError(`${text.slice(0, 300)}: ${JSON.stringify(r.value, bigints)}`);
    if (r.value.kind !== "bool") throw new QuintError(`${text.slice(0, 200)} is not an action`);
    if (!r.value.value) return false;
    this.evaluator.shift();
    return true;
  }

  /** Evaluates an expression on the current state, decoded as test/spec/itf.ts decodes trace values. */
  read(text: string): Value {
    const ex = this.module.expr(text, true);
    this.evaluator.updateTable(this.module.table);
    const r = this.evaluator.evaluate(ex);
    if (r.isLeft()) throw new QuintError(`${text}: ${JSON.stringify(r.value, bigints)}`);
    const itf = toItf(["v"], [{ id: 0n, kind: "app", opcode: "Rec", args: [{ id: 0n, kind: "str", value: "v" }, r.value] }]);
    if (itf.isLeft()) throw new QuintError(`${text}: ${itf.value}`);
    return decode(itf.value.states[0].v);
  }

  /** The states the evaluator went through since it was made (a run's trace), each with its variables by their unqualified names. */
  trace(): Record<string, Value>[] {
    return this.evaluator.trace.get().map((state: Any) => {
      const itf = toItf(["v"], [{ id: 0n, kind: "app", opcode: "Rec", args: [{ id: 0n, kind: "str", value: "v" }, state.toQuintEx(zerog)] }]);
      if (itf.isLeft()) throw new QuintError(String(itf.value));
      return stripModule(decode(itf.value.states[0].v) as Record<string, Value>);
    });
  }
}

export function stripModule(state: Record<string, Value>): Record<string, Value> {
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [k.split("::").pop()!, v]));
}

function bigints(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? String(v) : v;
}

/** A value of spec/raft.qnt as Quint text: numbers, booleans, lists, records, Maps (with numeric keys) and variants ({ tag, value }). */
export function quintText(v: unknown): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(quintText).join(", ")}]`;
  if (v instanceof Map) return v.size === 0 ? "Map()" : `Map(${[...v].map(([k, x]) => `${quintText(k)} -> ${quintText(x)}`).join(", ")})`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 2 && "tag" in o && "value" in o) {
      const inner = o.value;
      return Array.isArray(inner) && inner.length === 0 ? String(o.tag) : `${String(o.tag)}(${quintText(inner)})`;
    }
    return `{ ${keys.map((k) => `${k}: ${quintText(o[k])}`).join(", ")} }`;
  }
  throw new Error(`no Quint text for ${JSON.stringify(v)}`);
}
