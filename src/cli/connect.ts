// Opening the agent's socket for one command. grpc-js is loaded here, on first use, so commands
// that never talk to the agent (validate, help, version) start without it.
import type { ApiClient } from '../api/client';
import { socketPath, type ParsedArgs } from './args';
import type { CliIO } from './io';

export async function withAgent<T>(args: ParsedArgs, io: CliIO, use: (client: ApiClient) => Promise<T>): Promise<T> {
  const { ApiClient } = await import('../api/client');
  const client = await ApiClient.connect(socketPath(args, io.env));
  try {
    return await use(client);
  } finally {
    client.close();
  }
}
