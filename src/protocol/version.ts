// The version of the client <-> central protocol, exchanged in the Hello frame.
// Bump it for any incompatible change; the server refuses other versions with
// a clear error instead of misreading frames.
export const CENTRAL_PROTOCOL_VERSION = 1;
export const DEFAULT_CENTRAL_PORT = 7400;
export const DEFAULT_CLUSTER_PORT = 7401;
