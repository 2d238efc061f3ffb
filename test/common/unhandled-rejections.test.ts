// A server process logs a rejection nothing handled and keeps serving, with
// the fixed message the hostile tests look for; a real child process, since
// Node's default is to end the process.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { UNHANDLED_REJECTION_MESSAGE } from "../../src/common/unhandled-rejections.ts";

void test("an unhandled rejection is logged and the process lives on", async () => {
  const script = `
    import { surviveUnhandledRejections } from "./src/common/unhandled-rejections.ts";
    import { createLogger } from "./src/common/logger.ts";
    surviveUnhandledRejections(createLogger("test"));
    void Promise.reject(Object.assign(new Error("EIO: simulated"), { code: "EIO" }));
    setTimeout(() => process.stdout.write("still alive\\n"), 50);
  `;
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", script],
    { cwd: new URL("../../", import.meta.url).pathname },
  );
  assert.equal(stdout, "still alive\n");
  assert.ok(stderr.includes(UNHANDLED_REJECTION_MESSAGE), stderr);
  assert.ok(stderr.includes("EIO: simulated"), stderr);
});
