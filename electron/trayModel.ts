import type { SupervisorState } from './ServerSupervisor.js';
import { isLoopbackHost } from './loopback.js';

export type TrayAction = 'open-console' | 'copy-lan-url' | 'pause' | 'resume' | 'toggle-serve-lan' | 'toggle-start-at-login' | 'quit';

export type TrayItem =
  | { type: 'status'; label: string }
  | { type: 'separator' }
  | { type: 'action'; action: TrayAction; label: string; enabled: boolean }
  | { type: 'checkbox'; action: TrayAction; label: string; checked: boolean };

export interface TrayStatus {
  server: SupervisorState;
  /** The user paused serving (the server is stopped on purpose). */
  paused: boolean;
  /** From GET /api/models while running; null when unknown. */
  modelCount: number | null;
  /** From two GET /api/metrics/summary samples (see requestsPerMinute); null when unknown. */
  requestsPerMinute: number | null;
  /** The address business apps on the LAN use; null when serving this computer only. */
  lanUrl: string | null;
  /** The user's choice: serve the office network, or this computer only. */
  serveLan: boolean;
  startAtLogin: boolean;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const seconds = (ms: number) => `${Math.max(1, Math.round(ms / 1000))} s`;

/** One line for the tray's tooltip and the menu's first item. */
export function statusLabel(status: Pick<TrayStatus, 'server' | 'paused'>): string {
  const s = status.server;
  switch (s.kind) {
    case 'starting': return s.attempt > 1 ? 'Inferbox: restarting…' : 'Inferbox: starting…';
    case 'ready': return s.attached ? 'Inferbox: attached to the service' : 'Inferbox: running';
    case 'crashed': return `Inferbox: the server stopped unexpectedly, restarting in ${seconds(s.restartInMs)}`;
    case 'failed': return `Inferbox: the server could not start (${s.reason.split('\n').at(-1) ?? 'unknown error'})`;
    case 'stopping': return status.paused ? 'Inferbox: pausing…' : 'Inferbox: stopping…';
    case 'stopped': return status.paused ? 'Inferbox: paused' : 'Inferbox: stopped';
  }
}

/** The tray menu, top to bottom: status, numbers, then the actions. */
export function trayMenu(status: TrayStatus): { tooltip: string; items: TrayItem[] } {
  const running = status.server.kind === 'ready';
  const items: TrayItem[] = [{ type: 'status', label: statusLabel(status) }];
  if (running) {
    items.push({ type: 'status', label: status.modelCount === null ? 'Models: …' : plural(status.modelCount, 'model', 'models') });
    items.push({ type: 'status', label: status.requestsPerMinute === null ? 'Requests/min: …' : `${Math.round(status.requestsPerMinute)} requests/min` });
  }
  items.push({ type: 'separator' });
  items.push({ type: 'action', action: 'open-console', label: 'Open console', enabled: running });
  items.push(status.lanUrl
    ? { type: 'action', action: 'copy-lan-url', label: `Copy LAN URL (${status.lanUrl})`, enabled: running }
    : { type: 'action', action: 'copy-lan-url', label: 'Copy LAN URL (serving this computer only)', enabled: false });
  const stoppedForGood = status.paused || status.server.kind === 'failed' || (status.server.kind === 'stopped');
  items.push(stoppedForGood
    ? { type: 'action', action: 'resume', label: status.server.kind === 'failed' ? 'Try again' : 'Resume serving', enabled: status.server.kind !== 'stopping' }
    : { type: 'action', action: 'pause', label: 'Pause serving', enabled: status.server.kind !== 'stopping' });
  items.push({ type: 'separator' });
  items.push({ type: 'checkbox', action: 'toggle-serve-lan', label: 'Serve the office network (LAN)', checked: status.serveLan });
  items.push({ type: 'checkbox', action: 'toggle-start-at-login', label: 'Start at login', checked: status.startAtLogin });
  items.push({ type: 'action', action: 'quit', label: 'Quit Inferbox', enabled: true });
  return { tooltip: statusLabel(status), items };
}

/** The first LAN address among the server's URLs (an IPv4 address before a host name), or null on a loopback bind. */
export function pickLanUrl(urls: string[]): string | null {
  const remote = urls.filter((u) => !isLoopbackHost(new URL(u).hostname));
  return remote.find((u) => /^\d+\.\d+\.\d+\.\d+$/.test(new URL(u).hostname)) ?? remote[0] ?? null;
}

/** Total requests (successes and failures, every model) in a GET /api/metrics/summary answer. */
export function totalRequests(summary: { models: { success: number; failure: number }[] }): number {
  return summary.models.reduce((sum, m) => sum + m.success + m.failure, 0);
}

/**
 * Requests per minute between two samples of the cumulative count. A count that went down means
 * the server restarted (counters start at 0): unknown until the next sample.
 */
export function requestsPerMinute(previous: { at: number; total: number } | null, current: { at: number; total: number }): number | null {
  if (!previous || current.at <= previous.at || current.total < previous.total) return null;
  return ((current.total - previous.total) * 60_000) / (current.at - previous.at);
}

/** What to tell the user (a notification) when the server's state changes, or null for nothing. */
export function stateNotice(previous: SupervisorState | null, next: SupervisorState): string | null {
  if (next.kind === 'crashed') return `The Inferbox server stopped unexpectedly${next.signal ? ` (${next.signal})` : ''}. Restarting in ${seconds(next.restartInMs)}.`;
  if (next.kind === 'failed') return `The Inferbox server could not be started after ${next.failures} attempts: ${next.reason}`;
  if (next.kind === 'ready' && previous && (previous.kind === 'starting' || previous.kind === 'crashed') && (previous.kind === 'crashed' || previous.attempt > 1)) return 'The Inferbox server is running again.';
  return null;
}
