// The state one shell keeps between commands (ShellContext): the connection
// to the central server (announcing its loss at once), the login, the open
// editing session (its events go to the shell's printer), the running
// transfer's progress bar and cancel signal. No printing of its own.
import { CentralClient } from "../client/central-client.ts";
import { AlbumSession, type PeerEndpointOptions } from "../client/session/album-session.ts";
import { centralConnectError } from "./central-connect-error.ts";
import type { SessionEvent } from "./session-event-lines.ts";
import type { ShellContext } from "./shell-commands.ts";
import { startTransferProgressBar, type TransferProgressBar } from "./transfer-progress-bar.ts";

export class ShellSession implements ShellContext {
  user: string | undefined;
  quitRequested = false;
  album: AlbumSession | undefined;
  signal: AbortSignal = new AbortController().signal;
  askSecret: ((prompt: string) => Promise<string>) | undefined;
  /** The bar of the running transfer, so notices can print above it. */
  bar: TransferProgressBar | undefined;
  private client: CentralClient | undefined;

  constructor(
    private readonly address: string,
    private readonly peer: PeerEndpointOptions,
    private readonly onEvent: (event: SessionEvent) => void,
    private readonly progressStream: NodeJS.WriteStream | undefined,
    readonly columns: number,
  ) {}

  async central(): Promise<CentralClient> {
    if (this.client && !this.client.isClosed) return this.client;
    if (this.client) this.user = undefined; // the login died with the old connection
    const client = await CentralClient.connect({ address: this.address }).catch((error: unknown) =>
      Promise.reject(centralConnectError(error, this.address)),
    );
    // One line each way per outage; commands meanwhile wait a little, then fail "unavailable".
    client.on("reconnecting", ({ reason }) => this.onEvent({ kind: "reconnecting", reason }));
    client.on("restored", () => this.onEvent({ kind: "restored" }));
    // The client gave up (its login is no longer accepted): said at once.
    client.once("close", () => {
      if (this.client !== client) return;
      // Said at once, not at the next command; the prompt loses the login.
      this.user = undefined;
      this.onEvent({ kind: "connectionLost", address: this.address });
    });
    this.client = client;
    return client;
  }

  async openAlbum(name: string): Promise<AlbumSession> {
    const central = await this.central();
    const album = await AlbumSession.open({
      central,
      album: name,
      user: this.user!,
      peer: this.peer,
      events: {
        chat: (message) => this.onEvent({ kind: "chat", message }),
        editorJoined: (editor) => this.onEvent({ kind: "joined", editor }),
        editorLeft: (editor) => this.onEvent({ kind: "left", editor }),
        filesChanged: (batch) => this.onEvent({ kind: "filesChanged", batches: [batch] }),
        ended: (end) => {
          // May run while open() still runs (then open() fails and nothing was kept).
          if (this.album && !this.album.isOpen) this.album = undefined;
          this.onEvent({ kind: "sessionEnded", end });
        },
      },
    });
    this.album = album;
    return album;
  }

  async closeAlbum(): Promise<string | undefined> {
    const album = this.album;
    if (!album?.isOpen) {
      this.album = undefined;
      return undefined;
    }
    try {
      await album.close();
    } finally {
      // A hand-back refused while the central server is away leaves it open.
      if (!album.isOpen) this.album = undefined;
    }
    return album.album;
  }

  transferProgress(label: string): TransferProgressBar | undefined {
    if (!this.progressStream) return undefined;
    const bar = startTransferProgressBar(label, this.progressStream);
    this.bar = bar;
    return {
      listener: bar.listener,
      notice: bar.notice,
      stop: () => {
        if (this.bar === bar) this.bar = undefined;
        bar.stop();
      },
    };
  }

  close(): void {
    const client = this.client;
    this.client = undefined;
    client?.close();
  }
}
