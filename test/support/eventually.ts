// Waits for a condition by polling it. It never times anything: the deadline
// only turns a hung test (or benchmark) into a failure naming what it waited
// for, and it is generous so a slow, shared machine does not trip it.
import assert from "node:assert/strict";

export interface EventuallyOptions {
  /** How long to wait before failing (default 30 s). */
  timeoutMs?: number;
  /** Pause between two checks (default 20 ms). */
  pollMs?: number;
}

export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 30_000, pollMs = 20 }: EventuallyOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
