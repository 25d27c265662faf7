// Real time for the controller: one call per interval, counted from the start
// rather than from the previous timer, so late timers (a busy machine) are
// caught up at once and the count never drifts from the wall clock.

import { performance } from "node:perf_hooks";

export interface Ticker {
  stop(): void;
}

export function startTicker(intervalMs: number, onTick: () => void): Ticker {
  const startedAt = performance.now();
  let ticks = 0;
  let stopped = false;
  let timer: NodeJS.Timeout;
  const schedule = () => {
    timer = setTimeout(fire, Math.max(0, startedAt + (ticks + 1) * intervalMs - performance.now()));
  };
  const fire = () => {
    const due = Math.floor((performance.now() - startedAt) / intervalMs);
    while (ticks < due && !stopped) {
      ticks++;
      onTick();
    }
    if (!stopped) schedule();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
