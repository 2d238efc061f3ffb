// A gRPC client of the data servers written to misbehave, as a flood from a
// standard gRPC library would: many streams multiplexed over a few channels
// (grpc-js defaults, no AlbumSharing options), uploads that send a header and
// a byte and then nothing, downloads that never read. Each stream reports how
// it ended (status code and details); `close()` cancels whatever still runs.
// Only ever pointed at loopback servers started by the test.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Client,
  credentials,
  Metadata,
  status,
  type ClientReadableStream,
  type ClientWritableStream,
  type ServiceError,
} from "@grpc/grpc-js";
import {
  DownloadRequestSchema,
  DownloadResponseSchema,
  UploadRequestSchema,
  UploadResponseSchema,
} from "../../../src/gen/albumshare/data/v1/data_pb.ts";

export interface StreamOutcome {
  code: status;
  details: string;
}

const UPLOAD = "/albumshare.data.v1.DataService/Upload";
const DOWNLOAD = "/albumshare.data.v1.DataService/Download";

export class HostileDataClient {
  private readonly channels: Client[];
  private readonly calls = new Set<{ cancel(): void }>();
  private next = 0;

  constructor(address: string, channelCount: number) {
    this.channels = Array.from(
      { length: channelCount },
      // A channel option that differs per channel keeps grpc-js from sharing one connection.
      (_, i) => new Client(address, credentials.createInsecure(), { "hostile.channel": i }),
    );
  }

  private channel(): Client {
    return this.channels[this.next++ % this.channels.length]!;
  }

  /** An upload announcing `size` bytes that sends `firstBytes` and then stalls. */
  stalledUpload(key: string, size: number, firstBytes: Uint8Array): Promise<StreamOutcome> {
    return new Promise((resolve) => {
      const call: ClientWritableStream<Uint8Array> = this.channel().makeClientStreamRequest(
        UPLOAD,
        (bytes: Uint8Array) => Buffer.from(bytes),
        (bytes: Buffer) => fromBinary(UploadResponseSchema, bytes),
        new Metadata(),
        {},
        (error: ServiceError | null) => {
          this.calls.delete(call);
          resolve(
            error ? { code: error.code, details: error.details } : { code: status.OK, details: "" },
          );
        },
      );
      this.calls.add(call);
      const header = create(UploadRequestSchema, {
        part: { case: "header", value: { key, size: BigInt(size), ringVersion: 0n } },
      });
      call.write(toBinary(UploadRequestSchema, header));
      call.write(
        toBinary(
          UploadRequestSchema,
          create(UploadRequestSchema, { part: { case: "chunk", value: firstBytes } }),
        ),
      );
      // ... and never another byte, never the end of the stream.
    });
  }

  /** A download that is never read (the client's buffers fill, then the server's writes stop). */
  unreadDownload(key: string): Promise<StreamOutcome> {
    return new Promise((resolve) => {
      const call: ClientReadableStream<unknown> = this.channel().makeServerStreamRequest(
        DOWNLOAD,
        (bytes: Uint8Array) => Buffer.from(bytes),
        (bytes: Buffer) => fromBinary(DownloadResponseSchema, bytes),
        toBinary(
          DownloadRequestSchema,
          create(DownloadRequestSchema, { key, offset: 0n, ringVersion: 0n }),
        ),
        new Metadata(),
        {},
      );
      this.calls.add(call);
      // Listening for the end only: no 'data' listener, so nothing is read.
      call.on("error", () => undefined);
      call.on("status", (s: { code: status; details: string }) => {
        this.calls.delete(call);
        resolve({ code: s.code, details: s.details });
      });
    });
  }

  close(): void {
    for (const call of this.calls) call.cancel();
    this.calls.clear();
    for (const channel of this.channels) channel.close();
  }
}
