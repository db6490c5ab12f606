import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

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
