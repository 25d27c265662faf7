// The TLS material of one node (SPEC §11, docs/SECURITY.md): its
// certificate and key, and the CA that signed every node's certificate,
// read and checked at start so that a bad file is a one-line refusal
// (exit 2) and not a handshake that fails later.

import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import type { NodeId } from "../core/types.js";
import { ConfigError, nodeById, type ClusterConfig, type TlsAuthClients } from "./config.js";

export interface NodeTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  readonly authClients: TlsAuthClients;
  readonly handshakeTimeoutMs: number;
}

/** Node `id`'s TLS material from the cluster file, or null when the file has no "tls". */
export function loadNodeTls(config: ClusterConfig, id: NodeId): NodeTls | null {
  const t = config.tls;
  if (t === undefined) return null;
  const own = nodeById(config, id).tls;
  const certPath = own?.cert ?? t.cert!;
  const keyPath = own?.key ?? t.key!;
  const cert = readPem(certPath, "certificate");
  const key = readPem(keyPath, "private key");
  const ca = readPem(t.ca, "CA certificate");
  for (const [what, path, pem] of [["certificate", certPath, cert], ["CA certificate", t.ca, ca]] as const) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new ConfigError(`the TLS ${what} ${path} is not a PEM certificate (${(err as Error).message})`);
    }
  }
  try {
    createSecureContext({ cert, key, ca });
  } catch (err) {
    throw new ConfigError(`TLS certificate ${certPath} with key ${keyPath}: ${(err as Error).message}`);
  }
  return { cert, key, ca, authClients: t.authClients, handshakeTimeoutMs: t.handshakeTimeoutMs ?? 10_000 };
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`);
  }
}
