import os from 'node:os';

/**
 * What node:os says about this machine without asking systeminformation: a probe result cached in
 * the data dir is used only while these are the same (another machine, a resized VM or a moved
 * data dir probes again).
 */
export function machineKey(): string {
  const cpus = os.cpus();
  return JSON.stringify([os.platform(), os.arch(), cpus.length, cpus[0]?.model.trim() ?? '', os.totalmem()]);
}
