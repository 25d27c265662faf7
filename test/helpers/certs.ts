// Throwaway TLS certificates for tests, made with the openssl command at
// test time: one CA per call, and certificates it signs for whatever names
// and addresses a test needs (EC P-256 keys: fast to make).

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Cert {
  readonly cert: string;
  readonly key: string;
}

export class TestCa {
  readonly pem: string;
  private readonly caKey: string;
  private serial = 1;

  private constructor(
    readonly dir: string,
    name: string,
  ) {
    this.pem = join(dir, "ca.pem");
    this.caKey = join(dir, "ca.key");
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", this.caKey, "-out", this.pem, "-days", "2", "-subj", `/CN=${name}`]);
  }

  /** A new CA in a fresh temporary directory (remove it with dispose()). */
  static create(name = "raftkv test CA"): TestCa {
    return new TestCa(mkdtempSync(join(tmpdir(), "raftkv-certs-")), name);
  }

  /**
   * A certificate signed by this CA for `san` entries, e.g. ["IP:127.0.0.1", "DNS:localhost"]
   * (good for both server and client use); written as `name`.pem and `name`.key.
   */
  issue(name: string, san: readonly string[]): Cert {
    const cert = join(this.dir, `${name}.pem`);
    const key = join(this.dir, `${name}.key`);
    const csr = join(this.dir, `${name}.csr`);
    const ext = join(this.dir, `${name}.ext`);
    writeFileSync(ext, `subjectAltName=${san.join(",")}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr, "-subj", `/CN=${name}`]);
    openssl(["x509", "-req", "-in", csr, "-CA", this.pem, "-CAkey", this.caKey, "-set_serial", String(this.serial++), "-out", cert, "-days", "2", "-extfile", ext]);
    return { cert, key };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function openssl(args: readonly string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}
