// Observation 3 of issue 10, replayed against the real central server process:
// 200 raw connections from 127.0.0.2 send wrong-password logins. A
// well-behaved client on 127.0.0.3 is answered (and logged in) each time
// after at most a few flood hashes, not after the whole queue; the flood is
// slowed by growing delays; and once the flooding connections close, the
// server stops hashing for them (it hashes at most what was already running).
// And a request waiting for its turn never counts as idleness: a connection
// whose throttled logins wait far longer than the idle timeout is answered,
// not dropped. Counts, never durations: the machine is shared and noisy.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CentralClient } from "../../src/client/central-client.ts";
import { ErrorCode as WireCode } from "../../src/gen/albumshare/central/v1/central_pb.ts";
import { CentralProcess, makeTempDir } from "../central/helpers/central-process.ts";
import { RawConnection } from "../central/helpers/raw-connection.ts";
import { eventually } from "../support/eventually.ts";

const FLOOD_CONNECTIONS = 200;
const HASH_CONCURRENCY = 2;
/** Flood hashes allowed to finish between the good login's request and its answer. */
const MAX_FLOOD_HASHES_AHEAD = 4 * HASH_CONCURRENCY;
// Short, so that throttled logins wait several idle timeouts.
const IDLE_TIMEOUT_MS = 1000;

describe("a login flood from one address", () => {
  const temp = makeTempDir("albumshare-hostile-login-");
  let server: CentralProcess;
  const flood: RawConnection[] = [];
  let stopFlood = false;

  /** Flood answers that cost a hash (wrong password), over all connections. */
  const hashedFloodAnswers = (): number =>
    flood.reduce(
      (sum, raw) =>
        sum +
        raw.frames.filter(
          (f) => f.body.case === "error" && f.body.value.code === WireCode.UNAUTHENTICATED,
        ).length,
      0,
    );
  const failedLoginLines = (): number =>
    server.stderr.split("\n").filter((l) => l.includes('"failed login"')).length;

  before(async () => {
    server = await CentralProcess.start(temp.dir, 30_000, [
      "--hash-concurrency",
      String(HASH_CONCURRENCY),
      "--idle-timeout-ms",
      String(IDLE_TIMEOUT_MS),
      "--log-level",
      "info",
    ]);
    const setup = await CentralClient.connect({ address: server.address });
    await setup.register("good-user", "good-password");
    setup.close();
  });

  after(async () => {
    stopFlood = true;
    for (const raw of flood) raw.destroy();
    await server?.stop();
    temp.remove();
  });

  test("requests waiting for their turn are not idleness", async () => {
    const raw = await RawConnection.open(server.port, "127.0.0.5");
    raw.request(1n, { case: "hello", value: { protocolVersion: 1, agent: "patient" } });
    // Ten wrong logins at once, then silence: after five failures each waits
    // its turn (250 ms, 500 ms, 1 s, 2 s, ...), in all many idle timeouts.
    for (let id = 2n; id < 12n; id++) {
      raw.request(id, { case: "login", value: { name: "patient", password: "wrong-password" } });
    }
    await raw.until(
      () => raw.closed || raw.frames.some((f) => f.requestId === 11n),
      "the last login answered",
      120_000,
    );
    assert.equal(raw.closed, false, "dropped as idle while its requests waited");
    const answers = raw.frames.filter((f) => f.requestId >= 2n);
    assert.equal(answers.length, 10);
    assert.ok(
      answers.every(
        (f) => f.body.case === "error" && f.body.value.code === WireCode.UNAUTHENTICATED,
      ),
    );
    raw.destroy();
  });

  test("the good client is answered within a few hashes; closed connections cost nothing", async () => {
    const failedBefore = failedLoginLines();
    // Each flood connection logs in wrongly, again on every answer, until told to stop
    // (at most 20 attempts each).
    for (let i = 0; i < FLOOD_CONNECTIONS; i++) {
      const raw = await RawConnection.open(server.port, "127.0.0.2");
      flood.push(raw);
      raw.request(1n, { case: "hello", value: { protocolVersion: 1, agent: "flood" } });
      let next = 2n;
      const attempt = (): void => {
        if (stopFlood || raw.closed || next > 21n) return;
        const id = next++;
        raw
          .call(id, {
            case: "login",
            value: { name: `flood-${i % 10}`, password: "wrong-password" },
          })
          .then(attempt, () => undefined);
      };
      attempt();
    }
    await eventually(() => hashedFloodAnswers() >= HASH_CONCURRENCY, "the flood being hashed");

    for (let round = 0; round < 3; round++) {
      const good = await RawConnection.open(server.port, "127.0.0.3");
      const hashedBefore = hashedFloodAnswers();
      const answer = await good.greetAndLogin("good-user", "good-password");
      const hashedMeanwhile = hashedFloodAnswers() - hashedBefore;
      good.destroy();
      assert.equal(answer?.body.case, "login", `round ${round}: logged in`);
      assert.ok(
        hashedMeanwhile <= MAX_FLOOD_HASHES_AHEAD,
        `round ${round}: ${hashedMeanwhile} flood hashes answered before the good login`,
      );
    }

    // The flood address is slowed: some of its attempts were refused outright.
    await eventually(
      () =>
        flood.some((raw) =>
          raw.frames.some(
            (f) => f.body.case === "error" && f.body.value.code === WireCode.RESOURCE_EXHAUSTED,
          ),
        ) || hashedFloodAnswers() >= 40,
      "the flood throttled or hashed 40 times",
    );

    // Close the flood: hashes queued for it must not run.
    stopFlood = true;
    const answered = hashedFloodAnswers();
    for (const raw of flood) raw.destroy();
    // The log catches up; wait until it stops growing.
    let last = -1;
    await eventually(async () => {
      const now = failedLoginLines() - failedBefore;
      if (now === last) return true;
      last = now;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return false;
    }, "the server's failed-login log settling");
    assert.ok(
      last <= answered + 2 * HASH_CONCURRENCY + 2,
      `${last} failed logins hashed for ${answered} answered (at most the running ones may finish)`,
    );

    // A fresh client of another address is still served at once.
    const late = await RawConnection.open(server.port, "127.0.0.4");
    const answer = await late.greetAndLogin("good-user", "good-password");
    late.destroy();
    assert.equal(answer?.body.case, "login");
    assert.ok(server.isAlive);
  });
});
