// The cluster token file is read only when its owner alone may read it, and a
// refusal says how to fix it without ever printing the secret.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that test returns */
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { ErrorCode } from "../../src/common/album-error.ts";
import { readSecretFile } from "../../src/common/secret-file.ts";
import { makeTempDir } from "../central/helpers/central-process.ts";

const temp = makeTempDir("albumshare-secret-");
after(() => temp.remove());

test("an owner-only file is read and trimmed; a readable, empty or missing one is refused", () => {
  const file = join(temp.dir, "token");
  writeFileSync(file, "  the-secret-token-value\n");
  chmodSync(file, 0o600);
  assert.equal(readSecretFile(file, "cluster token"), "the-secret-token-value");
  chmodSync(file, 0o644);
  assert.throws(
    () => readSecretFile(file, "cluster token"),
    (error: { code?: unknown; message: string }) =>
      error.code === ErrorCode.FailedPrecondition &&
      error.message ===
        `the cluster token file ${file} is readable by other users (mode 644); run chmod 600 on it` &&
      !error.message.includes("the-secret-token-value"),
  );
  writeFileSync(file, "\n");
  chmodSync(file, 0o600);
  assert.throws(() => readSecretFile(file, "cluster token"), /is empty/);
  assert.throws(() => readSecretFile(join(temp.dir, "missing"), "cluster token"), /cannot read/);
});
