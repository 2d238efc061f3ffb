// Choosing the tokens of a server that joins the ring, so that the ring stays
// balanced with few tokens per server (in the spirit of Cassandra's token
// allocation, written from the idea, not from its code).
//
// A token t placed inside an arc (a, b] owned by S gives the new server the
// prefix (a, t] and leaves S with (t, b], so the new server can take any amount
// from any arc. We therefore plan the amounts first and place tokens after:
//   1. The new server should own the ideal share 1/(N+1) of the circle. It takes
//      it from the most loaded servers, levelling them down to a common level
//      (water-filling), from at most `tokenCount` servers.
//   2. The tokens are shared out among those servers in proportion to what each
//      gives (highest average first, as in D'Hondt), so every token takes a
//      similar amount.
//   3. Inside a server, the amount is taken from its largest arcs, levelling
//      them too, which keeps arcs of similar size for later joins. A server
//      keeps part of every arc it gives from; what it cannot give within that
//      is asked of the other donors.
//   4. Tokens left unused (a server whose amount fits in fewer arcs) split the
//      new server's own largest pieces: they change no ownership, and every
//      server keeps exactly `tokenCount` tokens.
// Only the new server gains: every moved position moves from an old owner to
// the new server, never between two old servers.
//
// Deterministic: the same ring and token count always give the same tokens
// (ties are broken by server order and arc position; the plan uses only
// IEEE double arithmetic, which gives the same result on every platform).
// Pure: no randomness, clock or I/O.

import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { RING_SIZE } from "./ring-validation.ts";

const RING_SIZE_AS_NUMBER = 2 ** 64;

// A donor gives at most this fraction of the arcs its tokens take from, keeping
// the rest, so no arc shrinks to nothing and later joins can still split it.
const MAX_TAKE_OF_ARCS = 0.9;

/** Tokens evenly spaced around the circle, for the first server of an empty ring. Ascending. */
export function evenlySpacedTokens(tokenCount: number): bigint[] {
  const count = BigInt(tokenCount);
  const tokens: bigint[] = [];
  for (let i = 0n; i < count; i++) tokens.push((i * RING_SIZE) / count);
  return tokens;
}

/**
 * The tokens for a new server joining a non-empty ring. `sortedTokens` holds
 * every token of the ring, ascending; `tokenOwner[i]` is the index (0 to
 * serverCount-1) of the server owning `sortedTokens[i]`, which owns the arc
 * (sortedTokens[i-1], sortedTokens[i]]. Returns `tokenCount` new ascending
 * tokens, none equal to an existing one.
 */
export function allocateTokens(
  sortedTokens: BigUint64Array,
  tokenOwner: Int32Array,
  serverCount: number,
  tokenCount: number,
): bigint[] {
  const arcCount = sortedTokens.length;
  if (arcCount === 0) return evenlySpacedTokens(tokenCount);

  // Arc i ends at sortedTokens[i] and starts at the token before it.
  const arcStart = (i: number): bigint => sortedTokens[(i + arcCount - 1) % arcCount]!;
  const arcLength = new Array<bigint>(arcCount);
  const arcLengthNumber = new Float64Array(arcCount);
  const load = new Float64Array(serverCount);
  for (let i = 0; i < arcCount; i++) {
    const length =
      arcCount === 1 ? RING_SIZE : (sortedTokens[i]! - arcStart(i) + RING_SIZE) % RING_SIZE;
    arcLength[i] = length;
    arcLengthNumber[i] = Number(length);
    load[tokenOwner[i]!]! += arcLengthNumber[i]!;
  }

  // 1. Water-filling over servers: level the most loaded ones down so that
  //    together they give exactly the new server's ideal share. A token takes
  //    from one arc, and so from one server: at most `tokenCount` donors.
  const need = RING_SIZE_AS_NUMBER / (serverCount + 1);
  const byLoad = Array.from({ length: serverCount }, (_, s) => s).sort(
    (x, y) => load[y]! - load[x]! || x - y,
  );
  const maxDonors = Math.min(serverCount, tokenCount);
  let donorCount = 0;
  let level = 0;
  let loadSum = 0;
  while (donorCount < maxDonors) {
    loadSum += load[byLoad[donorCount]!]!;
    donorCount++;
    level = (loadSum - need) / donorCount;
    if (donorCount < serverCount && level >= load[byLoad[donorCount]!]!) break;
  }
  const donors = byLoad.slice(0, donorCount);
  const give = donors.map((s) => load[s]! - level);

  // Arcs of each donor that can be split (a one-position arc cannot), largest
  // first, with prefix sums of their lengths.
  const arcsOf = donors.map((): number[] => []);
  const donorIndex = new Map(donors.map((s, d) => [s, d]));
  for (let i = 0; i < arcCount; i++) {
    const d = donorIndex.get(tokenOwner[i]!);
    if (d !== undefined && arcLength[i]! >= 2n) arcsOf[d]!.push(i);
  }
  const prefixOf = arcsOf.map((arcs) => {
    arcs.sort((x, y) => arcLengthNumber[y]! - arcLengthNumber[x]! || x - y);
    const prefix = new Float64Array(arcs.length + 1);
    arcs.forEach((arc, j) => (prefix[j + 1] = prefix[j]! + arcLengthNumber[arc]!));
    return prefix;
  });

  // 2. Tokens per donor: one each, then each further token to the donor whose
  //    amount per token is largest (as in D'Hondt), so tokens take similar amounts.
  const tokensOf = arcsOf.map((arcs) => Math.min(1, arcs.length));
  let unassigned = tokenCount - tokensOf.reduce((sum, t) => sum + t, 0);
  while (unassigned > 0) {
    let best = -1;
    for (let d = 0; d < donors.length; d++) {
      if (tokensOf[d]! >= arcsOf[d]!.length) continue;
      if (best < 0 || give[d]! / (tokensOf[d]! + 1) > give[best]! / (tokensOf[best]! + 1)) best = d;
    }
    if (best < 0) break;
    tokensOf[best]!++;
    unassigned--;
  }

  // A donor's tokens can take at most a fixed part of its largest arcs. What a
  // donor cannot give is asked of the others, levelling them a little lower.
  const capacity = donors.map((_, d) => prefixOf[d]![tokensOf[d]!]! * MAX_TAKE_OF_ARCS);
  const capped = donors.map(() => false);
  for (;;) {
    let excess = 0;
    for (let d = 0; d < donors.length; d++) {
      if (!capped[d] && give[d]! > capacity[d]!) {
        excess += give[d]! - capacity[d]!;
        give[d] = capacity[d]!;
        capped[d] = true;
      }
    }
    const open = donors.map((_, d) => d).filter((d) => !capped[d]);
    if (excess <= 0 || open.length === 0) break;
    for (const d of open) give[d]! += excess / open.length;
  }

  // 3. Inside each donor, water-filling over its largest arcs.
  const newTokens: bigint[] = [];
  const pieces: { start: bigint; length: bigint }[] = [];
  for (let d = 0; d < donors.length; d++) {
    const arcs = arcsOf[d]!;
    const limit = tokensOf[d]!;
    let used = 0;
    let arcLevel = 0;
    let lengthSum = 0;
    while (used < limit) {
      lengthSum += arcLengthNumber[arcs[used]!]!;
      used++;
      arcLevel = (lengthSum - give[d]!) / used;
      if (used < arcs.length && arcLevel >= arcLengthNumber[arcs[used]!]!) break;
    }
    for (let j = 0; j < used; j++) {
      const arc = arcs[j]!;
      const length = arcLength[arc]!;
      let take = BigInt(Math.round(arcLengthNumber[arc]! - arcLevel));
      if (take < 1n) take = 1n;
      if (take > length - 1n) take = length - 1n;
      const start = arcStart(arc);
      newTokens.push((start + take) % RING_SIZE);
      pieces.push({ start, length: take });
    }
  }

  // 4. Unused tokens split the new server's own largest pieces.
  while (newTokens.length < tokenCount) {
    let largest = -1;
    for (let p = 0; p < pieces.length; p++) {
      if (largest < 0 || pieces[p]!.length > pieces[largest]!.length) largest = p;
    }
    const piece = largest < 0 ? undefined : pieces[largest];
    if (!piece || piece.length < 2n) {
      throw new AlbumError(ErrorCode.Internal, "the ring has no room left for another token");
    }
    const half = piece.length / 2n;
    newTokens.push((piece.start + half) % RING_SIZE);
    pieces[largest] = { start: piece.start, length: half };
    pieces.push({ start: (piece.start + half) % RING_SIZE, length: piece.length - half });
  }

  return newTokens.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}
