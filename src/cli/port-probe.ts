// Finds out, before starting servers, whether one of their ports is taken:
// binding each for an instant is the only portable test. A port freed right
// after is still caught by the server's own bind; this only turns the common
// case (a system already running) into one line before anything starts.
import { createServer } from "node:net";

/** The first of `ports` on `host` that cannot be bound, or undefined. */
export async function busyPort(
  host: string,
  ports: readonly number[],
): Promise<number | undefined> {
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once("error", () => resolve(false));
      probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
    });
    if (!free) return port;
  }
  return undefined;
}
