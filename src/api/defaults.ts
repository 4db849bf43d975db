// Constants the CLI needs without loading grpc-js (server.ts and client.ts pull it in).

export const DEFAULT_SOCKET_PATH = '/run/flockguard/flockguard.sock';
/** Large enough for a policy set with big GlobalNetworkSets, small enough to bound memory per call. */
export const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
