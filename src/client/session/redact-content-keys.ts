// Content keys are capabilities: whoever knows one can download the content.
// Error messages from the data path may carry a key or a key prefix
// ("no content with key 0123456789ab…"); everything a session reports passes
// through here first. Pure. Must never let a whole key, or a prefix of one
// long enough to be quoted, through.

/** A whole key (64 hex digits), or an abbreviated one (8+ hex digits then an ellipsis). */
const KEY_OR_PREFIX = /[0-9a-fA-F]{64}|[0-9a-fA-F]{8,63}(?:…|\.\.\.)/g;

export const REDACTED_KEY = "<content key>";

export function redactContentKeys(text: string): string {
  return text.replace(KEY_OR_PREFIX, REDACTED_KEY);
}
