// The local CA and the certificates it issues (what `albumshare up` and
// `albumshare certificate` write), and the loopback rule that decides where
// plaintext may be used.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { makeTempDir } from "../central/helpers/central-process.ts";
import { ensureCertificate } from "../../src/common/tls/local-certificates.ts";
import { grpcChannelCredentials } from "../../src/common/tls/grpc-credentials.ts";
import { explainGrpcConnectionFailure } from "../../src/common/tls/tls-failure.ts";
import { isLoopbackHost, requireProtectedHosts } from "../../src/common/tls/transport-security.ts";

describe("local certificates", () => {
  const temp = makeTempDir("albumshare-certs-");
  after(() => temp.remove());

  test("a CA made once, certificates it signed for every name, keys readable by the owner only", () => {
    const caDir = join(temp.dir, "ca");
    const first = ensureCertificate(caDir, join(temp.dir, "a"), "server", [
      "db.example",
      "10.9.0.2",
    ]);
    const second = ensureCertificate(caDir, join(temp.dir, "b"), "server", ["127.0.0.1"]);
    assert.equal(first.ca, second.ca);
    const ca = new X509Certificate(readFileSync(first.ca));
    assert.equal(ca.ca, true);
    for (const files of [first, second]) {
      const cert = new X509Certificate(readFileSync(files.cert));
      assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), "signed by the CA");
      assert.equal(statSync(files.key).mode & 0o777, 0o600);
    }
    assert.equal(statSync(join(caDir, "ca-key.pem")).mode & 0o777, 0o600);
    const cert = new X509Certificate(readFileSync(first.cert));
    assert.ok(cert.checkHost("db.example"));
    assert.ok(cert.checkIP("10.9.0.2"));
    assert.equal(cert.checkIP("10.9.0.3"), undefined);
    // Asking again keeps the files (and so every certificate issued before).
    const again = ensureCertificate(caDir, join(temp.dir, "a"), "server", ["db.example"]);
    assert.equal(readFileSync(again.cert, "utf8"), readFileSync(first.cert, "utf8"));
  });
});

describe("plaintext only on loopback", () => {
  const octet = fc.integer({ min: 0, max: 255 });
  test("every 127.0.0.0/8 address is loopback, no other IPv4 address is", () => {
    fc.assert(
      fc.property(octet, octet, octet, octet, (a, b, c, d) => {
        const host = `${a}.${b}.${c}.${d}`;
        assert.equal(isLoopbackHost(host), a === 127);
      }),
    );
  });

  test("wildcards and names other than localhost are not loopback", () => {
    for (const host of ["0.0.0.0", "::", "example.org", "localhost.example.org"]) {
      assert.equal(isLoopbackHost(host), false, host);
      assert.throws(
        () => requireProtectedHosts({ kind: "plaintext" }, { listen: [host] }),
        /refusing to listen on .* without TLS/,
      );
    }
    for (const host of ["localhost", "::1", "[::1]", "127.0.0.2"]) assert.ok(isLoopbackHost(host));
  });

  test("a plaintext process opens no gRPC channel beyond loopback", () => {
    const plaintext = { kind: "plaintext" } as const;
    assert.throws(
      () => grpcChannelCredentials("10.0.0.5:7402", "data server 10.0.0.5:7402", plaintext),
      /refusing to reach the data server 10\.0\.0\.5:7402 without TLS/,
    );
    assert.ok(grpcChannelCredentials("127.0.0.1:7402", "data server", plaintext));
  });
});

describe("gRPC handshake failures in words", () => {
  test("node's messages become the reason; other failures are left as they are", () => {
    const last = (error: string): string => `No connection established. Last error: ${error}.`;
    assert.equal(
      explainGrpcConnectionFailure(last("Error: certificate has expired"), false),
      "TLS handshake failed: its certificate has expired",
    );
    assert.match(
      explainGrpcConnectionFailure(
        last("Error: 80:error:0A00010B:SSL routines::wrong version number"),
        false,
      ),
      /did not answer with TLS/,
    );
    assert.match(
      explainGrpcConnectionFailure(last("Failed to connect (2026-01-01T00:00:00Z)"), true),
      /if the server requires TLS, give --tls-ca/,
    );
    const refused = last("Error: connect ECONNREFUSED 127.0.0.1:1");
    assert.equal(explainGrpcConnectionFailure(refused, true), refused);
  });
});
