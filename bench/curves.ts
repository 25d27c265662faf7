import type { Flags } from "./lib.js";
export async function curves(_f: Flags): Promise<void> {}
