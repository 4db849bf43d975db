// What `flockguard agent` is started with: the CLI (src/cli/agent-options.ts) parses flags, the
// environment and /etc/flockguard/config.yaml into exactly this shape.
export type { AgentOptions } from '../cli/agent-options';
