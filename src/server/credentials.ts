// What one node proves and checks with (docs/SECURITY.md), read from the
// cluster file: the cluster secret (secretFile), the client password
// (requirepass / requirepassFile), the admin token (adminTokenFile) and the
// node's TLS material ("tls"). `raftkv server` and the library's
// ReplicatedNode both read them here, so that a node started either way
// authenticates its peers the same way.

import type { NodeId } from "../core/types.js";
import { type ClusterConfig, clientPassword, readSecretFile } from "./config.js";
import { loadNodeTls, type NodeTls } from "./tls.js";

/** A cluster secret or admin token shorter than this is refused: it has to withstand guessing. */
export const MIN_SECRET_BYTES = 16;

export interface NodeCredentials {
  /** The cluster secret peers prove to each other; null: peers are not authenticated by a secret. */
  readonly peerSecret: Buffer | null;
  /** The client port's password (AUTH); null: none. */
  readonly password: string | null;
  /** The admin port's token for state-changing requests; null: none. */
  readonly adminToken: Buffer | null;
  /** This node's certificate, key and the cluster's CA (peer port, client port); null: plain TCP. */
  readonly tls: NodeTls | null;
}

/** Node `id`'s credentials. Throws ConfigError (one line) when a file named is missing, too short or not what it should be. */
export function loadNodeCredentials(config: ClusterConfig, id: NodeId): NodeCredentials {
  return {
    peerSecret: config.secretFile === undefined ? null : readSecretFile(config.secretFile, "cluster secret", MIN_SECRET_BYTES),
    password: clientPassword(config),
    adminToken: config.adminTokenFile === undefined ? null : readSecretFile(config.adminTokenFile, "admin token", MIN_SECRET_BYTES),
    tls: loadNodeTls(config, id),
  };
}
