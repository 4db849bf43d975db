// `flockguard agent` options: defaults, config file, environment and flags, and the errors.
import assert from 'node:assert/strict';
import { parseAgentOptions, type AgentOptionDeps } from '../../src/cli/agent-options';

function files(map: Record<string, string>): AgentOptionDeps {
  return {
    hostname: () => 'node-from-hostname',
    readFile: (p) => {
      if (p in map) return map[p];
      throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    },
  };
}

describe('cli: agent options', () => {
  it('defaults without a config file', () => {
    assert.deepEqual(parseAgentOptions([], {}, files({})), {
      socket: '/run/flockguard/flockguard.sock',
      db: '/var/lib/flockguard/flockguard.db',
      nodeName: 'node-from-hostname',
      priority: -150,
      resyncInterval: 300_000,
      logLevel: 'info',
    });
  });

  it('config file < environment < flags', () => {
    const config = [
      'socket: /run/cfg.sock',
      'socketGroup: flockguard',
      'db: /srv/cfg.db',
      'nodeName: cfg-node',
      'priority: -160',
      'resyncInterval: 30s',
      'logLevel: debug',
    ].join('\n');
    const deps = files({ '/etc/flockguard/config.yaml': config });
    assert.deepEqual(parseAgentOptions([], {}, deps), {
      socket: '/run/cfg.sock',
      socketGroup: 'flockguard',
      db: '/srv/cfg.db',
      nodeName: 'cfg-node',
      priority: -160,
      resyncInterval: 30_000,
      logLevel: 'debug',
      configPath: '/etc/flockguard/config.yaml',
    });
    const env = { FLOCKGUARD_SOCKET: '/run/env.sock', FLOCKGUARD_DB: '/srv/env.db' };
    const fromEnv = parseAgentOptions([], env, deps);
    assert.deepEqual([fromEnv.socket, fromEnv.db], ['/run/env.sock', '/srv/env.db']);
    const fromFlags = parseAgentOptions(
      ['--socket', '/run/flag.sock', '--db', '/srv/flag.db', '--node-name', 'flag-node', '--priority', '-170', '--resync-interval', '2m', '--log-level', 'warn', '--socket-group', '0'],
      env,
      deps,
    );
    assert.deepEqual(fromFlags, {
      socket: '/run/flag.sock',
      socketGroup: '0',
      db: '/srv/flag.db',
      nodeName: 'flag-node',
      priority: -170,
      resyncInterval: 120_000,
      logLevel: 'warn',
      configPath: '/etc/flockguard/config.yaml',
    });
  });

  it('--config names another file, which then must exist', () => {
    const deps = files({ '/tmp/fg.yaml': 'priority: -155\n' });
    assert.equal(parseAgentOptions(['--config', '/tmp/fg.yaml'], {}, deps).priority, -155);
    assert.throws(() => parseAgentOptions(['--config', '/tmp/missing.yaml'], {}, deps), {
      code: 'AGENT_CONFIG',
      message: /\/tmp\/missing\.yaml: cannot read the config file \(ENOENT\)/,
    });
  });

  it('rejects bad config files with the file and key', () => {
    const bad = (text: string): AgentOptionDeps => files({ '/etc/flockguard/config.yaml': text });
    assert.throws(() => parseAgentOptions([], {}, bad('colour: blue\n')), { code: 'AGENT_CONFIG', message: /unknown key "colour"; known keys: socket, socketGroup/ });
    assert.throws(() => parseAgentOptions([], {}, bad('- a\n- b\n')), { code: 'AGENT_CONFIG', message: /must be a mapping/ });
    assert.throws(() => parseAgentOptions([], {}, bad('priority: [1]\n')), { code: 'AGENT_CONFIG', message: /priority: must be a string or a number/ });
    assert.throws(() => parseAgentOptions([], {}, bad('a: [\n')), { code: 'AGENT_CONFIG', message: /not valid YAML/ });
    assert.throws(() => parseAgentOptions([], {}, bad('resyncInterval: often\n')), {
      code: 'CLI_USAGE',
      message: /\/etc\/flockguard\/config\.yaml: resyncInterval "often" must be a duration/,
    });
  });

  it('rejects bad flag values as usage errors', () => {
    const deps = files({});
    assert.throws(() => parseAgentOptions(['--priority', 'high'], {}, deps), { code: 'CLI_USAGE', message: /--priority "high" must be a whole number/ });
    assert.throws(() => parseAgentOptions(['--resync-interval', '10ms'], {}, deps), { code: 'CLI_USAGE', message: /at least 1s/ });
    assert.throws(() => parseAgentOptions(['--log-level', 'loud'], {}, deps), { code: 'CLI_USAGE', message: /must be one of error, warn, info, debug/ });
    assert.throws(() => parseAgentOptions(['--frobnicate'], {}, deps), { code: 'CLI_USAGE' });
    assert.throws(() => parseAgentOptions(['extra'], {}, deps), { code: 'CLI_USAGE', message: /unexpected argument "extra"/ });
  });
});
