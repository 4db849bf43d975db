// Constants the CLI needs without loading grpc-js (server.ts and client.ts pull it in).

export const DEFAULT_SOCKET_PATH = '/run/flockguard/flockguard.sock';
/** Room for a GlobalNetworkSet of a million IPv6 prefixes (~30 MB of YAML); bounds memory per call. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
