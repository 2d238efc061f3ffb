// Ring simulation: a million content keys routed by rings that grow one server
// at a time, as a real cluster grows. For every size from 2 to 64 servers (and
// at 1,000) it measures the most loaded server against the mean, the keys moved
// by a join against the ideal 1/(N+1), and keys moved between two old servers.
// Baseline, in the same run: the classic scheme where a joining server draws
// random tokens, with as many tokens as ours and with 256.
// Everything is computed from the same keys; nothing is timed except growth.
import { createHash } from "node:crypto";
import type { Benchmark, BenchRow } from "./harness.ts";
import { keyPosition } from "../src/ring/content-key.ts";
import { DEFAULT_TOKENS_PER_SERVER, Ring } from "../src/ring/ring.ts";
import { create } from "@bufbuild/protobuf";
import { RingNodeSchema, RingStateSchema } from "../src/gen/albumshare/ring/v1/ring_pb.ts";

const KEY_COUNT = 1_000_000;
const SMALL_SIZES = { from: 2, to: 64 };
const LARGE_SIZE = 1000;
const RANDOM_TOKENS_MANY = 256;
const SWEEP_TOKEN_COUNTS = [4, 8, 12, 16, 24, 32];

const serverId = (i: number): string => `data-${String(i).padStart(4, "0")}`;
const address = (i: number): string => `127.0.0.1:${10_000 + i}`;

/** Sorted ring positions of `count` content keys (SHA-256 of distinct contents). */
function keyPositions(count: number): BigUint64Array {
  const positions = new BigUint64Array(count);
  for (let i = 0; i < count; i++) {
    positions[i] = keyPosition(createHash("sha256").update(`content ${i}`).digest("hex"));
  }
  return positions.sort();
}

/** Seeded 64-bit generator (SplitMix64), so the random baseline is the same every run. */
function splitMix64(seed: bigint): () => bigint {
  const mask = (1n << 64n) - 1n;
  let state = seed & mask;
  return () => {
    state = (state + 0x9e3779b97f4a7c15n) & mask;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
    return z ^ (z >> 31n);
  };
}

/** The classic scheme: each joining server draws `tokenCount` random tokens. */
class RandomTokenRing {
  readonly #next: () => bigint;
  readonly #tokenCount: number;
  readonly #nodes: { serverId: string; address: string; tokens: bigint[] }[] = [];

  constructor(tokenCount: number, seed: bigint) {
    this.#tokenCount = tokenCount;
    this.#next = splitMix64(seed);
  }

  grow(): void {
    const i = this.#nodes.length;
    const tokens = Array.from({ length: this.#tokenCount }, () => this.#next());
    tokens.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    this.#nodes.push({ serverId: serverId(i), address: address(i), tokens });
  }

  ring(): Ring {
    return Ring.fromProto(
      create(RingStateSchema, {
        version: BigInt(this.#nodes.length),
        nodes: this.#nodes.map((node) => create(RingNodeSchema, node)),
      }),
    );
  }
}

/**
 * The owner (index in ring.nodes) of every key, by one sweep over the sorted
 * keys and the sorted tokens; independent of the ring's own lookup code.
 */
function keyOwners(ring: Ring, keys: BigUint64Array): Int32Array {
  const entries: { token: bigint; owner: number }[] = [];
  ring.nodes.forEach((node, owner) => {
    for (const token of node.tokens) entries.push({ token, owner });
  });
  entries.sort((x, y) => (x.token < y.token ? -1 : x.token > y.token ? 1 : 0));
  const tokens = BigUint64Array.from(entries, (e) => e.token);
  const owners = Int32Array.from(entries, (e) => e.owner);
  const result = new Int32Array(keys.length);
  let t = 0;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    while (t < tokens.length && tokens[t]! < key) t++;
    result[k] = owners[t === tokens.length ? 0 : t]!;
  }
  return result;
}

/** Most loaded server's key count over the mean. */
function peakOverMean(owners: Int32Array, serverCount: number): number {
  const counts = new Int32Array(serverCount);
  for (const owner of owners) counts[owner]!++;
  let peak = 0;
  for (const count of counts) peak = Math.max(peak, count);
  return peak / (owners.length / serverCount);
}

/**
 * Max/mean keys when the circle is split into exactly equal arcs: what the
 * sampling of the keys alone costs, the best any ring can show with these keys.
 */
function equalArcsPeak(serverCount: number, keys: BigUint64Array): number {
  const size = 1n << 64n;
  const ring = Ring.fromProto(
    create(RingStateSchema, {
      version: 1n,
      nodes: Array.from({ length: serverCount }, (_, i) =>
        create(RingNodeSchema, {
          serverId: serverId(i),
          address: address(i),
          tokens: [(BigInt(i + 1) * size) / BigInt(serverCount) - 1n],
        }),
      ),
    }),
  );
  return peakOverMean(keyOwners(ring, keys), serverCount);
}

interface JoinFigures {
  /** Keys moved over the ideal keys/(N+1). */
  movedOverIdeal: number;
  /** Keys that moved from one old server to another (consistent hashing: 0). */
  movedBetweenOld: number;
}

/** Compares key owners before and after a join; new server = index `newIndex`. */
function joinFigures(before: Int32Array, after: Int32Array, newIndex: number): JoinFigures {
  let moved = 0;
  let movedBetweenOld = 0;
  for (let k = 0; k < before.length; k++) {
    if (before[k] === after[k]) continue;
    moved++;
    if (after[k] !== newIndex) movedBetweenOld++;
  }
  return { movedOverIdeal: moved / (before.length / (newIndex + 1)), movedBetweenOld };
}

/** Keys inside the arcs `transfersTo` reports, to check it against the key sweep. */
function keysInTransfers(before: Ring, after: Ring, keys: BigUint64Array): number {
  const upTo = (position: bigint): number => {
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (keys[middle]! <= position) low = middle + 1;
      else high = middle;
    }
    return low; // keys at or below position
  };
  let count = 0;
  for (const { range } of before.transfersTo(after)) {
    if (range.start < range.end) count += upTo(range.end) - upTo(range.start);
    else count += keys.length - upTo(range.start) + upTo(range.end);
  }
  return count;
}

interface GrowthFigures {
  peakBySize: Map<number, number>;
  moveBySize: Map<number, JoinFigures>;
}

/** Grows a ring from 1 to SMALL_SIZES.to servers and measures every size and join. */
function growSmall(
  keys: BigUint64Array,
  grow: () => Ring,
  check?: (before: Ring, after: Ring, moved: number) => void,
): GrowthFigures {
  const peakBySize = new Map<number, number>();
  const moveBySize = new Map<number, JoinFigures>();
  let ring = grow();
  let owners = keyOwners(ring, keys);
  for (let size = 2; size <= SMALL_SIZES.to; size++) {
    const next = grow();
    const nextOwners = keyOwners(next, keys);
    const join = joinFigures(owners, nextOwners, size - 1);
    check?.(ring, next, Math.round((join.movedOverIdeal * keys.length) / size));
    if (size >= SMALL_SIZES.from) {
      peakBySize.set(size, peakOverMean(nextOwners, size));
      moveBySize.set(size, join);
    }
    ring = next;
    owners = nextOwners;
  }
  return { peakBySize, moveBySize };
}

function growOurs(tokenCount: number): () => Ring {
  let ring = Ring.empty();
  return () => {
    const i = ring.nodes.length;
    ring = ring.withServer(serverId(i), address(i), tokenCount);
    return ring;
  };
}

function growRandom(tokenCount: number, seed: bigint): () => Ring {
  const random = new RandomTokenRing(tokenCount, seed);
  return () => {
    random.grow();
    return random.ring();
  };
}

const worst = (values: Iterable<number>): number => Math.max(...values);
const least = (values: Iterable<number>): number => Math.min(...values);

const bench: Benchmark = {
  id: "ring",
  title: `Consistent-hashing ring: ${KEY_COUNT.toLocaleString("en")} keys, servers added one at a time`,
  async run(): Promise<BenchRow[]> {
    const tokens = DEFAULT_TOKENS_PER_SERVER;
    const keys = keyPositions(KEY_COUNT);

    const ours = growSmall(keys, growOurs(tokens), (before, after, moved) => {
      const reported = keysInTransfers(before, after, keys);
      if (reported !== moved) {
        throw new Error(`transfersTo covers ${reported} keys but ${moved} moved`);
      }
    });
    const randomSame = growSmall(keys, growRandom(tokens, 1n));
    const randomMany = growSmall(keys, growRandom(RANDOM_TOKENS_MANY, 2n));

    // Token count sweep: the fewest tokens that meet the load target.
    const sweep = SWEEP_TOKEN_COUNTS.map((count) => ({
      count,
      peak: worst(growSmall(keys, growOurs(count)).peakBySize.values()),
    }));

    // 1,000 servers, then one more.
    let large = Ring.empty();
    const growStart = performance.now();
    for (let i = 0; i < LARGE_SIZE; i++) large = large.withServer(serverId(i), address(i), tokens);
    const growMs = performance.now() - growStart;
    const joinStart = performance.now();
    const largeNext = large.withServer(serverId(LARGE_SIZE), address(LARGE_SIZE), tokens);
    const joinMs = performance.now() - joinStart;
    const largeOwners = keyOwners(large, keys);
    const largeNextOwners = keyOwners(largeNext, keys);
    const largeJoin = joinFigures(largeOwners, largeNextOwners, LARGE_SIZE);

    const randomLarge = (count: number, seed: bigint): { peak: number; join: JoinFigures } => {
      const random = new RandomTokenRing(count, seed);
      for (let i = 0; i < LARGE_SIZE; i++) random.grow();
      const before = keyOwners(random.ring(), keys);
      random.grow();
      const after = keyOwners(random.ring(), keys);
      return {
        peak: peakOverMean(before, LARGE_SIZE),
        join: joinFigures(before, after, LARGE_SIZE),
      };
    };
    const largeRandomSame = randomLarge(tokens, 3n);
    const largeRandomMany = randomLarge(RANDOM_TOKENS_MANY, 4n);

    // Per-size detail, for docs/ring.md.
    const detail = [
      `\nRing detail: max/mean keys after growing to N servers; moved/ideal for the join that made N`,
      `   N  ours(${tokens})  random(${tokens})  random(${RANDOM_TOKENS_MANY})  moved/ideal ours  random(${tokens})`,
    ];
    for (let size = SMALL_SIZES.from; size <= SMALL_SIZES.to; size++) {
      detail.push(
        [
          String(size).padStart(4),
          ours.peakBySize.get(size)!.toFixed(3).padStart(9),
          randomSame.peakBySize.get(size)!.toFixed(3).padStart(11),
          randomMany.peakBySize.get(size)!.toFixed(3).padStart(12),
          ours.moveBySize.get(size)!.movedOverIdeal.toFixed(3).padStart(18),
          randomSame.moveBySize.get(size)!.movedOverIdeal.toFixed(3).padStart(11),
        ].join(""),
      );
    }
    detail.push(
      `token-count sweep (ours, worst max/mean over N=2..64): ${sweep
        .map(({ count, peak }) => `${count}: ${peak.toFixed(3)}`)
        .join(", ")}`,
    );
    console.log(detail.join("\n"));

    const moves = (figures: GrowthFigures): JoinFigures[] => [...figures.moveBySize.values()];
    const betweenOld = (figures: GrowthFigures): number =>
      moves(figures).reduce((sum, join) => sum + join.movedBetweenOld, 0);
    const sameName = `random, ${tokens} tokens`;
    const manyName = `random, ${RANDOM_TOKENS_MANY} tokens`;
    const rows: BenchRow[] = [
      {
        name: `max/mean keys, worst of N=2..64 (${tokens} tokens)`,
        value: worst(ours.peakBySize.values()),
        unit: "x",
        baseline: worst(randomSame.peakBySize.values()),
        baselineName: sameName,
        higherIsBetter: false,
        goal: "<= 1.10",
      },
      {
        name: `max/mean keys, worst of N=2..64 (${tokens} tokens)`,
        value: worst(ours.peakBySize.values()),
        unit: "x",
        baseline: worst(randomMany.peakBySize.values()),
        baselineName: manyName,
        higherIsBetter: false,
        goal: "<= 1.10",
      },
      {
        name: "max/mean keys at N=64",
        value: ours.peakBySize.get(SMALL_SIZES.to)!,
        unit: "x",
        baseline: equalArcsPeak(SMALL_SIZES.to, keys),
        baselineName: "equal arcs (noise)",
        higherIsBetter: false,
        goal: "<= 1.10",
      },
      {
        name: "moved/ideal, lowest of joins to N=2..64",
        value: least(moves(ours).map((join) => join.movedOverIdeal)),
        unit: "x",
        baseline: least(moves(randomSame).map((join) => join.movedOverIdeal)),
        baselineName: sameName,
        goal: ">= 0.9",
      },
      {
        name: "moved/ideal, highest of joins to N=2..64",
        value: worst(moves(ours).map((join) => join.movedOverIdeal)),
        unit: "x",
        baseline: worst(moves(randomSame).map((join) => join.movedOverIdeal)),
        baselineName: sameName,
        higherIsBetter: false,
        goal: "<= 1.1",
      },
      {
        name: "keys moved between old servers, N=2..64",
        value: betweenOld(ours),
        unit: "keys",
        baseline: betweenOld(randomSame),
        baselineName: sameName,
        goal: "0",
      },
      {
        name: `max/mean keys at N=${LARGE_SIZE}`,
        value: peakOverMean(largeOwners, LARGE_SIZE),
        unit: "x",
        baseline: largeRandomSame.peak,
        baselineName: sameName,
        higherIsBetter: false,
        goal: "printed",
      },
      {
        name: `max/mean keys at N=${LARGE_SIZE}`,
        value: peakOverMean(largeOwners, LARGE_SIZE),
        unit: "x",
        baseline: largeRandomMany.peak,
        baselineName: manyName,
        higherIsBetter: false,
        goal: "printed",
      },
      {
        name: `max/mean keys at N=${LARGE_SIZE}`,
        value: peakOverMean(largeOwners, LARGE_SIZE),
        unit: "x",
        baseline: equalArcsPeak(LARGE_SIZE, keys),
        baselineName: "equal arcs (noise)",
        higherIsBetter: false,
        goal: "printed",
      },
      {
        name: `moved/ideal, join to N=${LARGE_SIZE + 1}`,
        value: largeJoin.movedOverIdeal,
        unit: "x",
        baseline: largeRandomSame.join.movedOverIdeal,
        baselineName: sameName,
        goal: "0.9..1.1",
      },
      {
        name: `keys moved between old servers, join to N=${LARGE_SIZE + 1}`,
        value: largeJoin.movedBetweenOld,
        unit: "keys",
        baseline: largeRandomSame.join.movedBetweenOld,
        baselineName: sameName,
        goal: "0",
      },
      {
        name: `tokens in the ring at N=${LARGE_SIZE}`,
        value: large.tokenCount,
        unit: "tokens",
        baseline: LARGE_SIZE * RANDOM_TOKENS_MANY,
        baselineName: manyName,
        higherIsBetter: false,
      },
      {
        name: `withServer x${LARGE_SIZE}, growing from empty`,
        value: growMs,
        unit: "ms",
        higherIsBetter: false,
        goal: "seconds",
      },
      {
        name: `withServer at N=${LARGE_SIZE}`,
        value: joinMs,
        unit: "ms",
        higherIsBetter: false,
      },
    ];
    return rows;
  },
};

export default bench;
