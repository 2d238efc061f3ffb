// The consistent-hashing ring of the data servers: which server owns which arc
// of the 64-bit circle, in one numbered version. The one implementation used by
// clients, the central server and the data servers, so they all route a key to
// the same server for the same ring version.
//
// Each server holds a few tokens (virtual nodes). A token owns the half-open arc
// (previous token, token]; a key's position belongs to the first token at or
// after it, wrapping around past 2^64 - 1 to the smallest token.
//
// Rings are immutable values: every change returns a new ring with the next
// version. This module is pure: it never performs I/O, reads the clock or draws
// random numbers, so every process computes the same thing from the same ring.

import { create } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode, invalidArgument } from "../common/album-error.ts";
import {
  RingNodeSchema,
  RingStateSchema,
  type RingState,
} from "../gen/albumshare/ring/v1/ring_pb.ts";
import { keyPosition, type ContentKey } from "./content-key.ts";
import {
  MAX_RING_TOKENS,
  MAX_SERVERS,
  RING_SIZE,
  quote,
  validateAddress,
  validateServerId,
  validateServerTokens,
  validateTokenCount,
} from "./ring-validation.ts";
import { allocateTokens, evenlySpacedTokens } from "./token-allocation.ts";

/** Stable identity of a data server. */
export type ServerId = string;

export interface RingNode {
  readonly serverId: ServerId;
  /** host:port that clients and other servers should use. */
  readonly address: string;
  /** Positions of the server's virtual nodes, ascending. */
  readonly tokens: readonly bigint[];
}

/**
 * The half-open arc (start, end] of the circle, walking up from start and
 * wrapping past 2^64 - 1 to 0 when end < start. start === end means the whole
 * circle (a ring whose arcs all share one owner).
 */
export interface TokenRange {
  readonly start: bigint;
  readonly end: bigint;
}

/** An arc whose owner changes from `from` to `to` between two ring versions. */
export interface RangeTransfer {
  readonly range: TokenRange;
  readonly from: ServerId;
  readonly to: ServerId;
}

/**
 * Tokens per server, chosen with the ring simulation (bench/ring.bench.ts): the
 * fewest that keep the most loaded server within 1.10 times the mean for every
 * cluster size from 2 to 64 with a margin (worst case (T+2)/(T+1) = 1.077, met
 * when the cluster grows from T+1 to T+2 servers; see docs/ring.md).
 */
export const DEFAULT_TOKENS_PER_SERVER = 12;

/** True when `position` lies on the arc `range` (start excluded, end included). */
export function inRange(position: bigint, range: TokenRange): boolean {
  const { start, end } = range;
  if (start < end) return position > start && position <= end;
  if (start > end) return position > start || position <= end;
  return true;
}

export class Ring {
  /** Numbered from 1 for the first ring with a server; 0 means "no ring yet". */
  readonly version: number;
  /** The servers, in the order they joined. */
  readonly nodes: readonly RingNode[];

  // Every token of the ring ascending, and the index in `nodes` of its owner.
  readonly #sortedTokens: BigUint64Array;
  readonly #tokenOwner: Int32Array;
  readonly #indexOf: ReadonlyMap<ServerId, number>;

  private constructor(
    version: number,
    nodes: readonly RingNode[],
    sortedTokens: BigUint64Array,
    tokenOwner: Int32Array,
  ) {
    this.version = version;
    this.nodes = Object.freeze(nodes);
    this.#sortedTokens = sortedTokens;
    this.#tokenOwner = tokenOwner;
    this.#indexOf = new Map(nodes.map((node, index) => [node.serverId, index]));
  }

  /** The ring with no servers, version 0. */
  static empty(): Ring {
    return new Ring(0, [], new BigUint64Array(0), new Int32Array(0));
  }

  /**
   * A ring from its wire form, after checking it: server ids and addresses well
   * formed, no server twice, tokens ascending per server and unique across the
   * ring, sizes within bounds. Throws AlbumError InvalidArgument naming the fault.
   */
  static fromProto(state: RingState): Ring {
    const version = state.version;
    if (typeof version !== "bigint" || version < 0n || version > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw invalidArgument(`bad ring version ${String(version)}`);
    }
    if (state.nodes.length > MAX_SERVERS) {
      throw invalidArgument(
        `the ring has ${state.nodes.length} servers; at most ${MAX_SERVERS} are allowed`,
      );
    }
    if (version === 0n && state.nodes.length > 0) {
      throw invalidArgument("ring version 0 means no ring yet, but this one lists servers");
    }
    const seen = new Set<ServerId>();
    let tokenTotal = 0;
    const nodes = state.nodes.map((wire): RingNode => {
      validateServerId(wire.serverId);
      if (seen.has(wire.serverId)) {
        throw invalidArgument(`server ${quote(wire.serverId)} appears twice in the ring`);
      }
      seen.add(wire.serverId);
      validateAddress(wire.serverId, wire.address);
      validateServerTokens(wire.serverId, wire.tokens);
      tokenTotal += wire.tokens.length;
      if (tokenTotal > MAX_RING_TOKENS) {
        throw invalidArgument(`the ring has more than ${MAX_RING_TOKENS} tokens`);
      }
      return freezeNode(wire.serverId, wire.address, wire.tokens);
    });
    const { sortedTokens, tokenOwner } = indexTokens(nodes);
    return new Ring(Number(version), nodes, sortedTokens, tokenOwner);
  }

  toProto(): RingState {
    return create(RingStateSchema, {
      version: BigInt(this.version),
      nodes: this.nodes.map((node) =>
        create(RingNodeSchema, {
          serverId: node.serverId,
          address: node.address,
          tokens: [...node.tokens],
        }),
      ),
    });
  }

  isEmpty(): boolean {
    return this.nodes.length === 0;
  }

  /** Number of tokens (virtual nodes) in the whole ring. */
  get tokenCount(): number {
    return this.#sortedTokens.length;
  }

  node(serverId: ServerId): RingNode | undefined {
    const index = this.#indexOf.get(serverId);
    return index === undefined ? undefined : this.nodes[index];
  }

  /** The server that owns `key`. Throws AlbumError Unavailable on an empty ring. */
  ownerOf(key: ContentKey): RingNode {
    return this.ownerOfPosition(keyPosition(key));
  }

  /** The server that owns a position of the circle (0 to 2^64 - 1). */
  ownerOfPosition(position: bigint): RingNode {
    if (this.isEmpty()) {
      throw new AlbumError(ErrorCode.Unavailable, "no data server has joined the ring yet");
    }
    if (position < 0n || position >= RING_SIZE) {
      throw invalidArgument(`ring position ${position} is outside the 64-bit circle`);
    }
    return this.nodes[this.#tokenOwner[this.#successor(position)]!]!;
  }

  owns(serverId: ServerId, key: ContentKey): boolean {
    return !this.isEmpty() && this.ownerOf(key).serverId === serverId;
  }

  /**
   * A new ring (version + 1) with the server added. Its tokens are chosen to
   * split the most loaded ranges (see token-allocation.ts), deterministically;
   * the first server of an empty ring gets evenly spaced tokens. Every position
   * either keeps its owner or moves to the new server.
   */
  withServer(
    serverId: ServerId,
    address: string,
    tokenCount: number = DEFAULT_TOKENS_PER_SERVER,
  ): Ring {
    validateServerId(serverId);
    validateAddress(serverId, address);
    validateTokenCount(tokenCount);
    if (this.#indexOf.has(serverId)) {
      throw new AlbumError(
        ErrorCode.AlreadyExists,
        `server ${quote(serverId)} is already in the ring`,
      );
    }
    if (this.nodes.length >= MAX_SERVERS) {
      throw new AlbumError(
        ErrorCode.ResourceExhausted,
        `the ring already has ${MAX_SERVERS} servers`,
      );
    }
    if (this.tokenCount + tokenCount > MAX_RING_TOKENS) {
      throw new AlbumError(
        ErrorCode.ResourceExhausted,
        `the ring cannot hold more than ${MAX_RING_TOKENS} tokens`,
      );
    }
    const tokens = this.isEmpty()
      ? evenlySpacedTokens(tokenCount)
      : allocateTokens(this.#sortedTokens, this.#tokenOwner, this.nodes.length, tokenCount);
    const newIndex = this.nodes.length;
    const nodes = [...this.nodes, freezeNode(serverId, address, tokens)];

    // Merge the new tokens into the sorted list (both ascending, all distinct).
    const old = this.#sortedTokens;
    const total = old.length + tokens.length;
    const sortedTokens = new BigUint64Array(total);
    const tokenOwner = new Int32Array(total);
    let i = 0;
    let j = 0;
    for (let k = 0; k < total; k++) {
      if (j >= tokens.length || (i < old.length && old[i]! < tokens[j]!)) {
        sortedTokens[k] = old[i]!;
        tokenOwner[k] = this.#tokenOwner[i]!;
        i++;
      } else {
        sortedTokens[k] = tokens[j]!;
        tokenOwner[k] = newIndex;
        j++;
      }
    }
    return new Ring(this.version + 1, nodes, sortedTokens, tokenOwner);
  }

  /**
   * A new ring (version + 1) without the server: each of its arcs goes to the
   * owner of the next token around the circle, every other position keeps its
   * owner (a join in reverse). The last server cannot be removed this way
   * (the result would own nothing); Ring.empty() is the caller's to choose.
   */
  withoutServer(serverId: ServerId): Ring {
    const index = this.#indexOf.get(serverId);
    if (index === undefined) {
      throw new AlbumError(ErrorCode.NotFound, `server ${quote(serverId)} is not in the ring`);
    }
    if (this.nodes.length === 1) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `server ${quote(serverId)} is the last one in the ring; its keys would have nowhere to go`,
      );
    }
    const nodes = this.nodes.filter((_, i) => i !== index);
    const { sortedTokens, tokenOwner } = indexTokens(nodes);
    return new Ring(this.version + 1, nodes, sortedTokens, tokenOwner);
  }

  /** A new ring (version + 1) where the server is reached at another address; same tokens. */
  withAddress(serverId: ServerId, address: string): Ring {
    const index = this.#indexOf.get(serverId);
    if (index === undefined) {
      throw new AlbumError(ErrorCode.NotFound, `server ${quote(serverId)} is not in the ring`);
    }
    validateAddress(serverId, address);
    const nodes = this.nodes.map((node, i) =>
      i === index ? freezeNode(node.serverId, address, node.tokens) : node,
    );
    return new Ring(this.version + 1, nodes, this.#sortedTokens, this.#tokenOwner);
  }

  /**
   * The arcs whose owner differs between this ring and `next`, each with its
   * owner here (`from`) and there (`to`); adjacent arcs with the same pair are
   * merged. For a join made by withServer, every transfer goes from an old owner
   * to the new server. Empty when either ring is empty (nobody to hand over
   * from, or to).
   */
  transfersTo(next: Ring): RangeTransfer[] {
    if (this.isEmpty() || next.isEmpty()) return [];
    const here = this.#sortedTokens;
    const there = next.#sortedTokens;
    // Every boundary of either ring, ascending and distinct: between two
    // consecutive boundaries both rings have a single owner.
    const boundaries: bigint[] = [];
    let i = 0;
    let j = 0;
    while (i < here.length || j < there.length) {
      const a = i < here.length ? here[i]! : undefined;
      const b = j < there.length ? there[j]! : undefined;
      let value: bigint;
      if (b === undefined || (a !== undefined && a < b)) {
        value = a!;
        i++;
      } else if (a === undefined || b < a) {
        value = b;
        j++;
      } else {
        value = a;
        i++;
        j++;
      }
      boundaries.push(value);
    }
    // Both owners of the arc ending at each boundary, with a pointer that only
    // moves forward in each ring.
    let p = 0;
    let q = 0;
    const labels = boundaries.map((boundary) => {
      while (p < here.length && here[p]! < boundary) p++;
      while (q < there.length && there[q]! < boundary) q++;
      const from = this.nodes[this.#tokenOwner[p % here.length]!]!.serverId;
      const to = next.nodes[next.#tokenOwner[q % there.length]!]!.serverId;
      return from === to ? undefined : { from, to };
    });
    return mergeArcs(boundaries, labels, (x, y) => x.from === y.from && x.to === y.to).map(
      ({ range, label }) => ({ range, from: label.from, to: label.to }),
    );
  }

  /** The arcs owned by a server, adjacent arcs merged, in circle order. Empty if unknown. */
  rangesOwnedBy(serverId: ServerId): TokenRange[] {
    const index = this.#indexOf.get(serverId);
    if (index === undefined) return [];
    const labels = Array.from(this.#tokenOwner, (owner) => (owner === index ? true : undefined));
    return mergeArcs(Array.from(this.#sortedTokens), labels, () => true).map(({ range }) => range);
  }

  /** Fraction of the circle the server owns, from 0 to 1 (0 if unknown). */
  share(serverId: ServerId): number {
    const index = this.#indexOf.get(serverId);
    if (index === undefined) return 0;
    const tokens = this.#sortedTokens;
    if (tokens.length === 1) return 1;
    let owned = 0n;
    for (let k = 0; k < tokens.length; k++) {
      if (this.#tokenOwner[k] !== index) continue;
      const previous = tokens[(k + tokens.length - 1) % tokens.length]!;
      owned += (tokens[k]! - previous + RING_SIZE) % RING_SIZE;
    }
    return Number(owned) / Number(RING_SIZE);
  }

  // Index of the token owning `position`: the first token >= position, or the
  // smallest token when position is past the largest one.
  #successor(position: bigint): number {
    const tokens = this.#sortedTokens;
    let low = 0;
    let high = tokens.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (tokens[middle]! < position) low = middle + 1;
      else high = middle;
    }
    return low === tokens.length ? 0 : low;
  }
}

function freezeNode(serverId: ServerId, address: string, tokens: readonly bigint[]): RingNode {
  return Object.freeze({ serverId, address, tokens: Object.freeze([...tokens]) });
}

// Sorts every token of the ring and records its owner; refuses a token held twice.
function indexTokens(nodes: readonly RingNode[]): {
  sortedTokens: BigUint64Array;
  tokenOwner: Int32Array;
} {
  const ownerOf = new Map<bigint, number>();
  nodes.forEach((node, index) => {
    for (const token of node.tokens) {
      const other = ownerOf.get(token);
      if (other !== undefined) {
        throw invalidArgument(
          `token ${token} is held by both ${quote(nodes[other]!.serverId)} and ${quote(node.serverId)}`,
        );
      }
      ownerOf.set(token, index);
    }
  });
  const sortedTokens = BigUint64Array.from(ownerOf.keys()).sort();
  const tokenOwner = Int32Array.from(sortedTokens, (token) => ownerOf.get(token)!);
  return { sortedTokens, tokenOwner };
}

// Arc k is (boundaries[k-1], boundaries[k]] (arc 0 wraps from the last
// boundary). Returns the maximal runs of consecutive labelled arcs whose labels
// are `same`, including a run that wraps past the top of the circle; a run
// covering every arc is the whole circle (start === end).
function mergeArcs<Label>(
  boundaries: readonly bigint[],
  labels: readonly (Label | undefined)[],
  same: (x: Label, y: Label) => boolean,
): { range: TokenRange; label: Label }[] {
  const count = boundaries.length;
  const runs: { first: number; last: number; label: Label }[] = [];
  for (let k = 0; k < count; k++) {
    const label = labels[k];
    if (label === undefined) continue;
    const current = runs[runs.length - 1];
    if (current && current.last === k - 1 && same(current.label, label)) current.last = k;
    else runs.push({ first: k, last: k, label });
  }
  if (runs.length > 1) {
    const head = runs[0]!;
    const tail = runs[runs.length - 1]!;
    if (head.first === 0 && tail.last === count - 1 && same(head.label, tail.label)) {
      runs.pop();
      head.first = tail.first; // the run now starts before the top of the circle
    }
  }
  return runs.map(({ first, last, label }) => {
    const wholeCircle = first === 0 && last === count - 1;
    const start = wholeCircle ? boundaries[count - 1]! : boundaries[(first + count - 1) % count]!;
    return { range: { start, end: boundaries[last]! }, label };
  });
}
