import { readFileSync } from 'node:fs';

/** Linux's clock tick for thread CPU times in /proc (USER_HZ: 100 on every Linux architecture Node supports). */
const TICK_MS = 10;
const PROBE_INTERVAL_MS = 5;

/** This process's main thread's CPU time so far, ms (utime + stime of /proc/self/task/<pid>/stat). */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/**
 * Runs `work` and answers how long this thread was held at most without its event loop turning:
 * `wallMs`, the longest gap between two turns of a 5 ms timer (a setInterval lag probe), and
 * `cpuMs`, the most CPU time this thread spent within one such gap (10 ms resolution). A gap of
 * CPU time is the thread's own work (what blocks requests); a gap without it is the machine's
 * other processes and threads taking the cores, which a test on a shared machine cannot control.
 */
export async function longestBlock<T>(work: () => Promise<T>): Promise<{ result: T; wallMs: number; cpuMs: number }> {
  let wallMs = 0;
  let cpuMs = 0;
  let lastAt = performance.now();
  let lastCpu = mainThreadCpuMs();
  const probe = setInterval(() => {
    const at = performance.now();
    const cpu = mainThreadCpuMs();
    wallMs = Math.max(wallMs, at - lastAt);
    cpuMs = Math.max(cpuMs, cpu - lastCpu);
    lastAt = at;
    lastCpu = cpu;
  }, PROBE_INTERVAL_MS);
  try {
    const result = await work();
    return { result, wallMs, cpuMs };
  } finally {
    clearInterval(probe);
  }
}
