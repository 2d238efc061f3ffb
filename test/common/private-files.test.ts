// Private folders and files end up owner-only whatever the umask, and an
// existing folder created loosely by an older version is tightened.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { ensurePrivateDir, writePrivateFile } from "../../src/common/private-files.ts";
import { makeTempDir } from "../central/helpers/central-process.ts";

const temp = makeTempDir("albumshare-private-");
after(() => temp.remove());

const modeOf = (path: string): number => statSync(path).mode & 0o777;

test("folders become 0700 and files 0600 under a permissive umask", () => {
  const previous = process.umask(0o000);
  try {
    const fresh = join(temp.dir, "fresh", "nested");
    ensurePrivateDir(fresh);
    assert.equal(modeOf(fresh), 0o700);
    const old = join(temp.dir, "old");
    mkdirSync(old);
    chmodSync(old, 0o755);
    ensurePrivateDir(old);
    assert.equal(modeOf(old), 0o700);
    const file = join(old, "secret");
    writePrivateFile(file, "token\n");
    assert.equal(modeOf(file), 0o600);
    chmodSync(file, 0o644);
    writePrivateFile(file, "token again\n");
    assert.equal(modeOf(file), 0o600);
  } finally {
    process.umask(previous);
  }
});
