// Adapter from protobuf-es v2 service descriptors (generated `GenService`) to
// grpc-js: the method paths, the streaming flags and the (de)serializers.
// This is the only place that knows how protobuf-es messages become bytes on
// a grpc-js call; it must never hold state.

import {
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethod,
  type DescService,
} from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/** `/albumshare.data.v1.DataService/Upload` */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

// Buffer.from over the same memory: grpc-js wants a Buffer, protobuf-es
// returns a Uint8Array, and a copy of a 1 MiB chunk per message is waste.
export function serializerOf(schema: DescMessage): (value: object) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, value as never);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

export function deserializerOf<T>(schema: DescMessage): (bytes: Buffer) => T {
  return (bytes) => fromBinary(schema, bytes) as T;
}

export function methodDefinitionOf(method: DescMethod): MethodDefinition<object, object> {
  return {
    path: methodPath(method),
    requestStream:
      method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream:
      method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: serializerOf(method.input),
    requestDeserialize: deserializerOf(method.input),
    responseSerialize: serializerOf(method.output),
    responseDeserialize: deserializerOf(method.output),
    originalName: method.localName,
  };
}

/** A grpc-js ServiceDefinition keyed by each method's local name. */
export function serviceDefinitionOf(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<object, object>> = {};
  for (const method of service.methods) definition[method.localName] = methodDefinitionOf(method);
  return definition;
}
