import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread from a module next to the caller (`new URL('./x.js', import.meta.url)`).
 * The built app runs the compiled .js directly. Under tsx (tests, scripts) the caller is .ts and
 * Node 20 does not carry the main thread's loader hooks into workers, so the worker first
 * registers tsx and then imports the TypeScript file.
 */
export function spawnWorker(moduleUrl: URL, options: Pick<WorkerOptions, 'workerData'> = {}): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl.href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** The sibling module of `callerUrl` named `base`, with the caller's own extension (.ts under tsx, .js when built). */
export function siblingModule(callerUrl: string, base: string): URL {
  return new URL(`./${base}.${callerUrl.endsWith('.ts') ? 'ts' : 'js'}`, callerUrl);
}
