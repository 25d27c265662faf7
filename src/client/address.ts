// Node addresses as the client sees them: the cluster file's "client"
// entries, and the HOST:PORT that a -MOVED reply names.

export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

/** "host:port", with an IPv6 host in brackets (the form MOVED uses). */
export function formatHostPort(a: NodeAddress): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Parses "host:port" or "[v6]:port"; null when it is neither. */
export function parseHostPort(text: string): NodeAddress | null {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: (m[1] ?? m[2])!, port };
}
