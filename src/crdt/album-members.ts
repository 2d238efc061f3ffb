// The read side of the member group (an add-wins observed-remove set of user
// names). The group is the set of names with a live add. Local operations
// never remove the last member, but two concurrent removals can; then, and only
// then, the group is the witnesses of this epoch's member removals (the users
// each remover expected to stay), so an album never ends up without members.
import type { DotKey } from "./dot.ts";
import { ascending } from "./dot.ts";
import type { AlbumState } from "./album-state.ts";
import { cachedView } from "./view-cache.ts";

/** The album's members, sorted by name. */
export function listMembers(state: AlbumState): readonly string[] {
  return cachedView(state, "members", () => {
    const live = liveMemberNames(state);
    return live.length > 0 ? live : witnessMembers(state);
  });
}

export function isMember(state: AlbumState, user: string): boolean {
  return listMembers(state).includes(user);
}

/** Names with a live add, sorted. */
export function liveMemberNames(state: AlbumState): string[] {
  return [...new Set(state.members.values())].sort(byCodeUnits);
}

/** True when the group shown is the fallback of concurrent removals that emptied it. */
export function isWitnessFallback(state: AlbumState): boolean {
  return state.members.size === 0 && witnessMembers(state).length > 0;
}

/** The live add dots of one member, ascending. */
export function memberDots(state: AlbumState, user: string): DotKey[] {
  const dots: DotKey[] = [];
  for (const [key, name] of state.members) if (name === user) dots.push(key);
  return dots.sort(ascending);
}

function witnessMembers(state: AlbumState): string[] {
  const witnesses = new Set<string>();
  for (const removal of state.removals.values()) {
    if (removal.witness !== undefined) witnesses.add(removal.witness);
  }
  return [...witnesses].sort(byCodeUnits);
}

export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
