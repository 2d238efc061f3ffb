// Hosts for the multi-host test: Linux network namespaces made by this
// process and nothing else. One "switch" namespace holds two bridges — the
// backbone (10.231.0.0/24: central server, data servers, clients) and the
// peer network (10.231.1.0/24: the clients' peer endpoints) — and each host is
// a namespace wired to them by veth pairs. Every address lives inside these
// namespaces, so no test traffic can reach anything else. Cutting a link is
// `ip link set eth0 down` inside the host. remove() deletes every namespace
// made (also after a failure; a process exit handler is the last resort).
// Host names: `ip netns exec` shows a namespace /etc/netns/<ns>/hosts as its
// /etc/hosts, so names resolve inside the lab only; remove() deletes them.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const BACKBONE = "10.231.0";
export const PEER_NET = "10.231.1";

export interface Host {
  name: string;
  /** The namespace: `ip netns exec <ns>` runs a command on this host. */
  ns: string;
  /** Address on the backbone (servers listen and advertise it). */
  address: string;
  /** Address on the peer network (clients only). */
  peerAddress?: string;
  /** Prefix that runs a command on this host. */
  launcher: string[];
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Whether this process may make network namespaces (root and iproute2); a reason when not. */
export function namespacesUnavailable(): string | undefined {
  const probe = `asprobe${process.pid}`;
  try {
    ip("netns", "add", probe);
  } catch (error) {
    const text = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return `cannot make network namespaces (needs root and iproute2): ${text}`;
  }
  ip("netns", "del", probe);
  return undefined;
}

export class NetworkLab {
  readonly #prefix = `as${process.pid % 100000}`;
  readonly #switch: string;
  readonly #namespaces: string[] = [];
  readonly #onExit = (): void => this.remove();
  #ports = 0;

  constructor() {
    this.#switch = this.#add("sw");
    process.once("exit", this.#onExit);
    for (const [bridge] of [["br0"], ["br1"]] as const) {
      ip("-n", this.#switch, "link", "add", bridge, "type", "bridge");
      ip("-n", this.#switch, "link", "set", bridge, "up");
    }
  }

  #add(suffix: string): string {
    const ns = `${this.#prefix}${suffix}`;
    ip("netns", "add", ns);
    this.#namespaces.push(ns);
    ip("-n", ns, "link", "set", "lo", "up");
    return ns;
  }

  /** A veth from the host's `device` to a port of `bridge` in the switch. */
  #wire(ns: string, device: string, bridge: string, address: string): void {
    const port = `${this.#prefix}p${this.#ports++}`;
    ip(
      "-n",
      this.#switch,
      "link",
      "add",
      port,
      "type",
      "veth",
      "peer",
      "name",
      device,
      "netns",
      ns,
    );
    ip("-n", this.#switch, "link", "set", port, "master", bridge, "up");
    ip("-n", ns, "addr", "add", `${address}/24`, "dev", device);
    ip("-n", ns, "link", "set", device, "up");
  }

  /** A host with `.index` on the backbone, and on the peer network too when `peer`. */
  addHost(name: string, index: number, peer = false): Host {
    const ns = this.#add(name);
    const address = `${BACKBONE}.${index}`;
    this.#wire(ns, "eth0", "br0", address);
    const peerAddress = peer ? `${PEER_NET}.${index}` : undefined;
    if (peerAddress) this.#wire(ns, "eth1", "br1", peerAddress);
    return {
      name,
      ns,
      address,
      ...(peerAddress ? { peerAddress } : {}),
      launcher: ["ip", "netns", "exec", ns],
    };
  }

  /** Names every host of the lab resolves (through its own hosts file). */
  nameHosts(names: Record<string, string>): void {
    const lines = ["127.0.0.1 localhost", "::1 localhost"];
    for (const [name, address] of Object.entries(names)) lines.push(`${address} ${name}`);
    for (const ns of this.#namespaces) {
      const dir = join("/etc/netns", ns);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "hosts"), `${lines.join("\n")}\n`);
    }
  }

  /** Takes the host's backbone link down (its peer link, if any, stays up). */
  cut(host: Host): void {
    ip("-n", host.ns, "link", "set", "eth0", "down");
  }

  restore(host: Host): void {
    ip("-n", host.ns, "link", "set", "eth0", "up");
  }

  /** Limits what the host sends on the backbone (so a transfer lasts long enough to cut it). */
  throttle(host: Host, rate: string): void {
    execFileSync("ip", [
      "netns",
      "exec",
      host.ns,
      "tc",
      "qdisc",
      "replace",
      "dev",
      "eth0",
      "root",
      "tbf",
      "rate",
      rate,
      "burst",
      "64kbit",
      "latency",
      "500ms",
    ]);
  }

  unthrottle(host: Host): void {
    execFileSync("ip", ["netns", "exec", host.ns, "tc", "qdisc", "del", "dev", "eth0", "root"]);
  }

  /** Deletes every namespace this lab made (their veths go with them). Idempotent. */
  remove(): void {
    for (const ns of this.#namespaces.splice(0).reverse()) {
      try {
        ip("netns", "del", ns);
      } catch {
        // already gone
      }
      rmSync(join("/etc/netns", ns), { recursive: true, force: true });
    }
    process.off("exit", this.#onExit);
  }
}
