import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const MAIN = new URL('../../server/main.ts', import.meta.url).pathname;

/**
 * The real headless CLI (`inferbox serve`) on a random loopback port with plain Node + tsx, stdout
 * piped for the banner. `args` adds flags; stderr is piped (read it, or pass 'inherit').
 */
export function spawnServe(dataDir: string, options: { args?: string[]; logLevel?: string; stderr?: 'pipe' | 'inherit' } = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...(options.args ?? [])], {
    env: { ...process.env, INFERBOX_LOG_LEVEL: options.logLevel ?? 'silent' },
    stdio: ['ignore', 'pipe', options.stderr ?? 'pipe'],
  });
}

/**
 * Reads a spawned `serve` process's output until its start banner has named the admin key file
 * (the last banner line), and returns what it printed with the loopback URL it serves on. Fails
 * with the output when the process exits first. stdout must be piped; piped stderr is read too.
 */
export async function waitForServeBanner(child: ChildProcess): Promise<{ url: string | undefined; output: string }> {
  let output = '';
  child.stdout!.setEncoding('utf8');
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  while (!/Admin key/.test(output)) {
    const [chunk] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit').then(() => { throw new Error(`server exited: ${output}`); })])) as [string];
    output += chunk;
  }
  return { url: /(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], output };
}
