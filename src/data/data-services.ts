// The routing table of a data server: each RPC of DataService and
// DataPeerService to its handler (one handler per file in handlers/).

import type { Server } from "@grpc/grpc-js";
import { addService } from "../common/grpc/service-handlers.ts";
import { DataPeerService, DataService } from "../gen/albumshare/data/v1/data_pb.ts";
import type { DataServerContext } from "./data-server-context.ts";
import { downloadHandler } from "./handlers/download.ts";
import { fetchHandler } from "./handlers/fetch.ts";
import { listKeysHandler } from "./handlers/list-keys.ts";
import { releaseHandler } from "./handlers/release.ts";
import { statHandler } from "./handlers/stat.ts";
import { takeOverHandler } from "./handlers/take-over.ts";
import { uploadHandler } from "./handlers/upload.ts";
import { usageHandler } from "./handlers/usage.ts";

export function addDataServices(server: Server, context: DataServerContext): void {
  addService(server, DataService, {
    upload: uploadHandler(context),
    download: downloadHandler(context),
    stat: statHandler(context),
  });
  addService(server, DataPeerService, {
    listKeys: listKeysHandler(context),
    fetch: fetchHandler(context),
    release: releaseHandler(context),
    usage: usageHandler(context),
    takeOver: takeOverHandler(context),
  });
}
