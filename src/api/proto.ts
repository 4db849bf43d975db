// Loads proto/flockguard.proto at run time with protobufjs and turns its `Agent` service into a
// grpc-js service definition. We build the definition ourselves (path, streaming flags and
// serializers from protobufjs Type.encode/decode) instead of using @grpc/proto-loader, which would
// add a dependency for what is a dozen lines here.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';

export const PROTO_PACKAGE = 'flockguard.v1';
export const SERVICE_NAME = `${PROTO_PACKAGE}.Agent`;

/** A message as protobufjs hands it over: camelCase fields, enums as names, 64-bit ints as numbers. */
export type WireMessage = Record<string, unknown>;

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, arrays: true };

let cached: { root: protobuf.Root; definition: ServiceDefinition } | undefined;

/** proto/flockguard.proto, found by walking up from this file (dist/src/api, .build/x/src/api, src/api). */
export function protoFilePath(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'proto', 'flockguard.proto');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw Object.assign(new Error(`proto/flockguard.proto not found above ${__dirname}: the installation is incomplete`), {
    code: 'PROTO_MISSING',
  });
}

function load(): { root: protobuf.Root; definition: ServiceDefinition } {
  if (!cached) {
    const root = protobuf.loadSync(protoFilePath());
    root.resolveAll();
    const service = root.lookupService(SERVICE_NAME);
    const definition: ServiceDefinition = Object.fromEntries(
      service.methodsArray.map((method) => [lowerFirst(method.name), methodDefinition(method)]),
    );
    cached = { root, definition };
  }
  return cached;
}

function methodDefinition(method: protobuf.Method): MethodDefinition<WireMessage, WireMessage> {
  const requestType = method.resolvedRequestType as protobuf.Type;
  const responseType = method.resolvedResponseType as protobuf.Type;
  return {
    path: `/${SERVICE_NAME}/${method.name}`,
    requestStream: Boolean(method.requestStream),
    responseStream: Boolean(method.responseStream),
    requestSerialize: serializer(requestType),
    requestDeserialize: deserializer(requestType),
    responseSerialize: serializer(responseType),
    responseDeserialize: deserializer(responseType),
    originalName: lowerFirst(method.name),
  };
}

function serializer(type: protobuf.Type): (value: WireMessage) => Buffer {
  return (value) => Buffer.from(type.encode(type.fromObject(value)).finish());
}

/** Throws on malformed bytes; grpc-js turns that into an error status for the one call. */
function deserializer(type: protobuf.Type): (bytes: Buffer) => WireMessage {
  return (bytes) => type.toObject(type.decode(bytes), TO_OBJECT);
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** The grpc-js service definition of flockguard.v1.Agent, keyed by lowerCamel method name. */
export function agentServiceDefinition(): ServiceDefinition {
  return load().definition;
}

/** A message type of the package, for tests that craft raw frames. */
export function messageType(name: string): protobuf.Type {
  return load().root.lookupType(`${PROTO_PACKAGE}.${name}`);
}
