import type { Flags } from "./lib.js";
export async function protocol(_f: Flags): Promise<void> {}
