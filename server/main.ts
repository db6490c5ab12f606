#!/usr/bin/env node
/** The headless CLI: `inferbox [serve] [flags]` and `inferbox keys …`. */
import { parseArgs } from 'node:util';
import { isInferboxError } from './common/errors.js';
import { keysCommand } from './cli/keysCommand.js';
import { UsageError } from './cli/parseServeOptions.js';
import { serveCommand } from './cli/serveCommand.js';
import { ListenError } from './common/ListenError.js';

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'grpc-port': { type: 'string' },
  'data-dir': { type: 'string' },
  tls: { type: 'string' },
  instances: { type: 'string' },
  threads: { type: 'string' },
  provider: { type: 'string' },
  name: { type: 'string' },
  scopes: { type: 'string' },
  'expires-at': { type: 'string' },
} as const;

function parseCommandLine() {
  try {
    return parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

try {
  const { values, positionals } = parseCommandLine();
  const [command = 'serve', ...rest] = positionals;
  if (command === 'serve') await serveCommand(values);
  else if (command === 'keys') keysCommand(rest, values, (line) => process.stdout.write(`${line}\n`));
  else throw new UsageError(`unknown command '${command}': use 'serve' or 'keys'`);
} catch (error) {
  const expected = error instanceof UsageError || error instanceof ListenError || isInferboxError(error);
  process.stderr.write(`inferbox: ${expected ? (error as Error).message : (error as Error).stack ?? String(error)}\n`);
  process.exit(expected ? 2 : 1);
}
