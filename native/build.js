#!/usr/bin/env node
// Builds native/build/Release/flockguard_sockopt.node with node-gyp (which ships with npm).
// `--optional` (used by `npm install`/`npm ci`) turns a failed build into a warning: flockguard then
// runs without the addon and src/netlink/sockopt.ts reports NETLINK_NATIVE_MISSING at first use.
// Headers come from Node's own install prefix when it has them (Debian's nodejs, official tarballs,
// NodeSource), so no download is needed; otherwise node-gyp fetches them.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, statSync } = require('node:fs');
const path = require('node:path');

const here = __dirname;
const optional = process.argv.includes('--optional');
const addon = path.join(here, 'build', 'Release', 'flockguard_sockopt.node');
const sources = ['sockopt.c', 'binding.gyp'].map((f) => path.join(here, f));

function upToDate() {
  if (!existsSync(addon)) return false;
  const built = statSync(addon).mtimeMs;
  return sources.every((s) => statSync(s).mtimeMs <= built);
}

function nodeGypCommand() {
  const script = process.env.npm_config_node_gyp;
  if (script && existsSync(script)) return [process.execPath, [script]];
  const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return [process.execPath, [bundled]];
  return ['node-gyp', []];
}

function nodedirArgs() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

if (upToDate()) process.exit(0);
const [cmd, pre] = nodeGypCommand();
const r = spawnSync(cmd, [...pre, 'rebuild', '--directory', here, ...nodedirArgs()], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (r.status === 0) process.exit(0);
const why = r.error ? r.error.message : (r.stderr || '').split('\n').filter((l) => /error|not found/i.test(l)).slice(-8).join('\n');
process.stderr.write(
  `flockguard: building the native socket-option addon failed (NETLINK_NATIVE_MISSING)\n${why}\n` +
    'flockguard still runs, but without SO_SNDBUFFORCE/SO_RCVBUFFORCE, extended ACKs and NETLINK_NO_ENOBUFS;\n' +
    'install a C compiler, make and python3 (Debian: apt-get install build-essential python3), then: npm run build:native\n',
);
process.exit(optional ? 0 : 1);
