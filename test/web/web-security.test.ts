// The pure request checks: which Host and Origin values pass, the cookie's
// flags and parsing, and the CSP of every reply.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  allowedHosts,
  CONTENT_SECURITY_POLICY,
  cookieValue,
  hostAllowed,
  originAllowed,
  sessionCookie,
} from "../../src/web/web-security.ts";

test("only the server's own names pass as Host and Origin", () => {
  const hosts = allowedHosts("127.0.0.1", 7480);
  for (const good of ["127.0.0.1:7480", "localhost:7480", "LOCALHOST:7480", "[::1]:7480"]) {
    assert.ok(hostAllowed(good, hosts), good);
    assert.ok(originAllowed(`http://${good}`, hosts), good);
  }
  for (const bad of [
    "127.0.0.1",
    "127.0.0.1:7481",
    "evil.example:7480",
    "127.0.0.1.evil.example:7480",
    "",
  ]) {
    assert.ok(!hostAllowed(bad, hosts), bad);
    assert.ok(!originAllowed(`http://${bad}`, hosts), bad);
  }
  assert.ok(!hostAllowed(undefined, hosts));
  for (const bad of [
    undefined,
    "null",
    "https://127.0.0.1:7480",
    "http://127.0.0.1:7480/x",
    "file://",
  ]) {
    assert.ok(!originAllowed(bad, hosts), String(bad));
  }
  // A wildcard bind answers only what the operator allowed.
  const wide = allowedHosts("0.0.0.0", 7480, ["photos.home:7480"]);
  assert.ok(hostAllowed("photos.home:7480", wide));
  assert.ok(!hostAllowed("localhost:7480", wide));
});

test("the session cookie is HttpOnly and SameSite=Strict, and parses back", () => {
  const cookie = sessionCookie("token-value");
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.equal(
    cookieValue(`a=b; ${cookie.split(";")[0]}; c=d`, "albumshare_session"),
    "token-value",
  );
  assert.equal(cookieValue("albumshare_sessionx=1", "albumshare_session"), undefined);
  assert.equal(cookieValue(undefined, "albumshare_session"), undefined);
});

test("the CSP allows only the server's own script and no framing", () => {
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
  assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
  assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);
});
