// One gRPC connection per address, opened on first use and closed together.
// Used by clients (one per data server) and by servers talking to peers.
// Never shared between owners: each owner closes its own pool.

import { GrpcConnection } from "./client-calls.ts";

export class ConnectionPool {
  private readonly connections = new Map<string, GrpcConnection>();

  /** `describe` names the peer in error messages, e.g. (a) => `data server ${a}`. */
  constructor(private readonly describe: (address: string) => string = (a) => a) {}

  get(address: string): GrpcConnection {
    let connection = this.connections.get(address);
    if (!connection) {
      connection = new GrpcConnection(address, this.describe(address));
      this.connections.set(address, connection);
    }
    return connection;
  }

  /** Drops a connection that failed, so the next call opens a fresh one. */
  forget(address: string): void {
    this.connections.get(address)?.close();
    this.connections.delete(address);
  }

  close(): void {
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }
}
