// The dashboard page served at GET / (SPEC §7).

export function dashboardHtml(): string {
  return `<!doctype html><meta charset="utf-8"><title>raftkv</title><p>The dashboard is not built yet; see <a href="/status">/status</a> and <a href="/metrics">/metrics</a>.</p>`;
}
