// assert.rejects predicates for AlbumErrors: the code, and optionally the message.
import assert from "node:assert/strict";
import { AlbumError, type ErrorCode } from "../../../src/common/album-error.ts";

export function withCode(code: ErrorCode, message?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof AlbumError, `expected an AlbumError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  };
}
