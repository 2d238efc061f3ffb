// The wire form of replicas, deltas and causal contexts: the messages of
// albumshare.crdt.v1 (proto/albumshare/crdt/v1/album.proto), written and read
// with protobuf-es's wire primitives rather than its reflective toBinary/
// fromBinary, which were too slow for 10,000-file albums (the tests check that
// both produce and accept the same bytes). Encoding is canonical — fields in
// number order, defaults left out, lists sorted, removed adds left out — so
// equal replicas give equal bytes. Decoding treats its input as untrusted:
// anything malformed, out of range or non-canonical is refused with an
// InvalidArgument AlbumError; it never yields a state the operations could not
// handle.
//
// Writing is in album-encode.ts, reading in album-decode.ts (with its checked
// primitives in album-wire-reader.ts and file entries in album-file-reader.ts);
// the field numbers and shared canonical rules are in album-wire.ts. This
// module is the codec's one public face.
export { encodeContext, encodeDelta, encodeState } from "./album-encode.ts";
export { decodeContext, decodeDelta, decodeState } from "./album-decode.ts";
