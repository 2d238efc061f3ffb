// The request checks of the local web server, as pure functions: which Host
// headers it answers (no DNS rebinding: a page of another site that resolves
// its own name to 127.0.0.1 sends its own name as Host), which Origins may
// change state or open the live channel (no cross-site requests from other
// pages the person has open), the session cookie, and the security headers of
// every response. Never trusts a header it did not check; no I/O.

/** The session cookie's name. */
export const SESSION_COOKIE = "albumshare_session";

/**
 * Every "host:port" the server answers to: the bound host and, on loopback,
 * the usual loopback names, plus whatever the operator allowed explicitly.
 */
export function allowedHosts(
  bindHost: string,
  port: number,
  extra: readonly string[] = [],
): Set<string> {
  const hosts = new Set<string>();
  const add = (host: string): void => void hosts.add(`${host.toLowerCase()}:${port}`);
  add(bindHost.includes(":") && !bindHost.startsWith("[") ? `[${bindHost}]` : bindHost);
  if (isLoopback(bindHost)) {
    add("localhost");
    add("127.0.0.1");
    add("[::1]");
  }
  for (const entry of extra) hosts.add(entry.toLowerCase());
  return hosts;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || host.startsWith("127.");
}

/** True when the Host header names this server (with its port). */
export function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  return host !== undefined && allowed.has(host.toLowerCase());
}

/**
 * True when the Origin header is this server itself. A state-changing request
 * or a live channel without an Origin is refused too: every browser we serve
 * sends one on those, so a missing Origin means a client we do not know.
 */
export function originAllowed(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return false;
  const match = /^http:\/\/([^/]+)$/.exec(origin);
  return match !== null && allowed.has(match[1]!.toLowerCase());
}

/** The value of one cookie, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a session token: never readable by scripts, never sent cross-site. */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/**
 * Sent with every response. The page runs only our own script, loads nothing
 * from elsewhere, cannot be framed, and blob: is allowed only for media (the
 * video poster is drawn from the local file before upload).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "X-Frame-Options": "DENY",
  "Cache-Control": "no-store",
};
