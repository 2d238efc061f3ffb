// Worker thread body of LargeFrameParser: parses a frame with the schema named
// in workerData and answers with its canonical encoding (unknown fields and
// repeated occurrences of singular fields gone), or with the parse error.
// It holds no state between frames and never touches a socket.
import { fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { parentPort, workerData } from "node:worker_threads";

interface Setup {
  schemaModule: string;
  schemaExport: string;
}

const setup = workerData as Setup;
const schema = (await import(setup.schemaModule))[setup.schemaExport] as DescMessage;

parentPort!.on("message", ({ id, frame }: { id: number; frame: Uint8Array }) => {
  try {
    const clean = toBinary(schema, fromBinary(schema, frame, { readUnknownFields: false }));
    parentPort!.postMessage({ id, clean }, [clean.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
