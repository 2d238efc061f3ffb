// Range parsing against a model: every answer is a range inside the content
// (or whole, or unsatisfiable exactly when the RFC says so).
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseRange } from "../../src/web/http-range.ts";

test("single ranges match the RFC's model", () => {
  fc.assert(
    fc.property(
      fc.nat({ max: 10_000 }),
      fc.option(fc.nat({ max: 12_000 }), { nil: undefined }),
      fc.option(fc.nat({ max: 12_000 }), { nil: undefined }),
      (size, first, last) => {
        const header = `bytes=${first ?? ""}-${last ?? ""}`;
        const answer = parseRange(header, size);
        if (first === undefined && last === undefined) return assert.equal(answer.kind, "whole");
        if (first === undefined) {
          // Suffix: the last n bytes.
          if (last === 0 || size === 0) return assert.equal(answer.kind, "unsatisfiable");
          return assert.deepEqual(answer, {
            kind: "partial",
            start: Math.max(0, size - last!),
            end: size - 1,
          });
        }
        if (first >= size) return assert.equal(answer.kind, "unsatisfiable");
        if (last !== undefined && last < first) return assert.equal(answer.kind, "whole");
        return assert.deepEqual(answer, {
          kind: "partial",
          start: first,
          end: Math.min(last ?? size - 1, size - 1),
        });
      },
    ),
    { numRuns: 2000 },
  );
});

test("anything else is answered with the whole content", () => {
  for (const header of [
    undefined,
    "",
    "bytes=0-1,5-9",
    "items=0-5",
    "bytes=a-b",
    "bytes 0-5",
    "bytes=--1",
  ]) {
    assert.equal(parseRange(header, 100).kind, "whole", String(header));
  }
  fc.assert(
    fc.property(fc.string(), fc.nat(), (header, size) => {
      const answer = parseRange(header, size);
      if (answer.kind === "partial") {
        assert.ok(answer.start >= 0 && answer.start <= answer.end && answer.end < size);
      }
    }),
  );
});
