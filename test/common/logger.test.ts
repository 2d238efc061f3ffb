// The silent logger is one cheap object: asking for it again and again opens
// no stream and leaves no exit handler behind (pino's default destination
// registered one per logger and flushed each at exit), and nothing it or its
// children are given is written anywhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { silentLogger } from "../../src/common/logger.ts";

void test("silentLogger is one shared logger that writes nothing at any level", () => {
  const logger = silentLogger();
  assert.equal(silentLogger(), logger);
  const child = logger.child({ component: "test" });
  for (const level of ["fatal", "error", "warn", "info", "debug", "trace"] as const) {
    assert.equal(logger.isLevelEnabled(level), false, level);
    assert.equal(child.isLevelEnabled(level), false, level);
  }
});

void test("asking for the silent logger many times registers no exit or beforeExit handler", async () => {
  // In a fresh process, so that nothing else of the suite has installed one.
  const script = `
    const count = () => ({
      exit: process.listenerCount("exit"),
      beforeExit: process.listenerCount("beforeExit"),
    });
    const before = count();
    const { silentLogger } = await import("./src/common/logger.ts");
    for (let i = 0; i < 1000; i++) silentLogger().child({ i }).error("dropped");
    process.stdout.write(JSON.stringify({ before, after: count() }));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", script],
    { cwd: new URL("../../", import.meta.url).pathname },
  );
  const { before, after } = JSON.parse(stdout) as { before: unknown; after: unknown };
  assert.deepEqual(after, before);
});
