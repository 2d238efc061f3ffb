// Memoizes read-side views (the file listing with display names) per state
// object, so that a lookup by display name does not rebuild the listing each
// time. Every writer of a state must call forgetViews on it.
import type { AlbumState } from "./album-state.ts";

const views = new WeakMap<AlbumState, Map<string, unknown>>();

export function cachedView<T>(state: AlbumState, name: string, build: () => T): T {
  let perState = views.get(state);
  if (!perState) {
    perState = new Map();
    views.set(state, perState);
  }
  if (perState.has(name)) return perState.get(name) as T;
  const view = build();
  perState.set(name, view);
  return view;
}

export function forgetViews(state: AlbumState): void {
  views.delete(state);
}
