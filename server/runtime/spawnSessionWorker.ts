import { Worker } from 'node:worker_threads';

const isTypeScript = import.meta.url.endsWith('.ts');
const workerUrl = new URL(`./sessionWorker.${isTypeScript ? 'ts' : 'js'}`, import.meta.url);

/**
 * Starts a session worker. The built app runs the compiled .js directly. Under tsx (tests,
 * scripts) Node 20 does not carry the main thread's loader hooks into workers, so the worker
 * first registers tsx and then imports the TypeScript entry.
 */
export function spawnSessionWorker(): Worker {
  if (!isTypeScript) return new Worker(workerUrl);
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
  return new Worker(bootstrap, { eval: true });
}
