#!/usr/bin/env node
/** The headless CLI: `inferbox [serve] [flags]`, `inferbox keys …`, `backup`, `restore FILE`, `service install|uninstall`. */
import { parseArgs } from 'node:util';
import { isInferboxError } from './common/errors.js';
import { UsageError } from './cli/parseServeOptions.js';
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
  output: { type: 'string' },
  user: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

function parseCommandLine() {
  try {
    return parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const say = (line: string) => process.stdout.write(`${line}\n`);

try {
  const { values, positionals } = parseCommandLine();
  const [command = 'serve', ...rest] = positionals;
  const { 'dry-run': dryRun, ...strings } = values;
  if (dryRun !== undefined && command !== 'service') throw new UsageError(`--dry-run is an option of 'service' only`);
  // Each command's modules load only when it runs: `serve` does not wait for the backup archiver
  // or the service definitions (systemd, launchd, Windows task) to load.
  if (command === 'serve') await (await import('./cli/serveCommand.js')).serveCommand(strings);
  else if (command === 'keys') (await import('./cli/keysCommand.js')).keysCommand(rest, strings, say);
  else if (command === 'backup') await (await import('./cli/backupCommand.js')).backupCommand(strings, say);
  else if (command === 'restore') await (await import('./cli/restoreCommand.js')).restoreCommand(rest, strings, say);
  else if (command === 'service') (await import('./cli/serviceCommand.js')).serviceCommand(rest, values, say);
  else throw new UsageError(`unknown command '${command}': use 'serve', 'keys', 'backup', 'restore' or 'service'`);
} catch (error) {
  const expected = error instanceof UsageError || error instanceof ListenError || isInferboxError(error);
  process.stderr.write(`inferbox: ${expected ? (error as Error).message : (error as Error).stack ?? String(error)}\n`);
  process.exit(expected ? 2 : 1);
}
