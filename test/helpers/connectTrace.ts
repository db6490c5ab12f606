import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Records every connect(2) of a process tree with strace (-f follows forked children, spawned
 * commands and threads, so native code such as onnxruntime's is seen too) and says which
 * attempts would leave the box.
 */

export interface ConnectAttempt {
  pid: number;
  /** strace's family name (AF_INET, AF_INET6, AF_UNIX, …), or null when the line could not be read. */
  family: string | null;
  /** IP address, or the socket path for AF_UNIX. */
  address: string | null;
  port: number | null;
  /** '0' for success, the errno name (ENOENT, EINPROGRESS, …), or null when the trace has no result line. */
  result: string | null;
  line: string;
}

/**
 * Local daemons that answer name lookups (or reach the network for others): a lookup handed to
 * them may go out as DNS or mDNS even though our process only talked to a local socket. glibc
 * tries nscd before every NSS lookup (hosts, and also passwd/group); a refused or missing socket
 * carried nothing, so only a connect that succeeded (or whose result strace did not show) counts.
 */
const NAME_SERVICE_SOCKETS = new Set([
  '/var/run/nscd/socket',
  '/run/nscd/socket',
  '/var/run/avahi-daemon/socket',
  '/run/avahi-daemon/socket',
  '/run/systemd/resolve/io.systemd.Resolve',
  '/var/run/dbus/system_bus_socket',
  '/run/dbus/system_bus_socket',
]);

const TRACE_ARGS = ['-f', '-qq', '-s', '256', '-e', 'trace=connect,execve'];

/**
 * Throws (never skips) when strace is missing or may not trace here (no ptrace permission, e.g. a
 * container without CAP_SYS_PTRACE): a check that cannot run must not pass.
 */
export function assertStraceUsable(): void {
  try {
    execFileSync('strace', ['-f', '-qq', '-e', 'trace=connect', '-o', '/dev/null', 'true'], { stdio: 'pipe', timeout: 10_000 });
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message;
    throw new Error(`strace cannot trace here (install it: apt-get install strace; and allow ptrace): ${detail}`);
  }
}

/** Spawns `command` under strace; the trace goes to `traceFile`. stdio passes through to the command. */
export function spawnTraced(command: string, args: string[], traceFile: string, options: SpawnOptions): ChildProcess {
  return spawn('strace', [...TRACE_ARGS, '-o', traceFile, '--', command, ...args], options);
}

/** The traced command's pid (strace's only direct child), to signal it rather than strace. */
export function tracedPid(strace: ChildProcess): number {
  const children = readFileSync(`/proc/${strace.pid}/task/${strace.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  if (children.length !== 1) throw new Error(`expected strace to have one child, found [${children.join(', ')}]`);
  return Number(children[0]);
}

/** Every connect(2) in a trace. A line that names connect but cannot be read is kept with family null. */
export function parseConnects(trace: string): ConnectAttempt[] {
  const attempts: ConnectAttempt[] = [];
  /** Calls strace split because another thread was traced meanwhile, by pid, until their result line. */
  const unfinished = new Map<number, ConnectAttempt>();
  const resultOf = (line: string) => {
    const match = /\)\s+=\s+(-?\d+)(?:\s+(E\w+))?/.exec(line);
    return match ? (match[2] ?? match[1]!) : null;
  };
  for (const line of trace.split('\n')) {
    const resumed = /^(\d+)\s+<\.\.\. connect resumed>/.exec(line);
    if (resumed) {
      // Carries only the result of a call whose start (with the address) was printed already.
      const attempt = unfinished.get(Number(resumed[1]));
      if (attempt) attempt.result = resultOf(line);
      unfinished.delete(Number(resumed[1]));
      continue;
    }
    if (!/^\d+\s+connect\(/.test(line)) continue;
    const pid = Number(/^(\d+)/.exec(line)![1]);
    const family = /sa_family=(AF_\w+)/.exec(line)?.[1] ?? null;
    const attempt: ConnectAttempt = { pid, family, address: null, port: null, result: resultOf(line), line };
    if (line.endsWith('<unfinished ...>')) unfinished.set(pid, attempt);
    if (family === 'AF_INET') {
      attempt.address = /sin_addr=inet_addr\("([^"]+)"\)/.exec(line)?.[1] ?? null;
      attempt.port = Number(/sin_port=htons\((\d+)\)/.exec(line)?.[1] ?? NaN);
    } else if (family === 'AF_INET6') {
      attempt.address = /inet_pton\(AF_INET6, "([^"]+)"/.exec(line)?.[1] ?? null;
      attempt.port = Number(/sin6_port=htons\((\d+)\)/.exec(line)?.[1] ?? NaN);
    } else if (family === 'AF_UNIX') {
      attempt.address = /sun_path=(@?"[^"]*")/.exec(line)?.[1]?.replace(/"/g, '') ?? null;
    }
    attempts.push(attempt);
  }
  return attempts;
}

const isLoopbackV4 = (address: string) => /^127\.\d+\.\d+\.\d+$/.test(address);
const isLoopbackV6 = (address: string) => address === '::1' || /^::ffff:127\.\d+\.\d+\.\d+$/i.test(address);

/**
 * Why an attempt would leave the box, or null when it stays on it:
 * - AF_INET / AF_INET6: only loopback (127.0.0.0/8, ::1, ::ffff:127.x) stays;
 * - AF_UNIX: local IPC stays (tsx's loader pipe, …), except a name lookup handed to a resolver
 *   daemon (above);
 * - AF_UNSPEC: glibc's resolver and Node's dgram use it to dissolve a UDP socket's peer; it names
 *   no address and sends nothing;
 * - AF_NETLINK: the kernel (interface and address lists);
 * - anything else (AF_PACKET, AF_BLUETOOTH, AF_VSOCK, an unreadable line): counted as leaving,
 *   so a parser that cannot read a line fails the test instead of passing it.
 */
export function leavesTheBox(attempt: ConnectAttempt): string | null {
  switch (attempt.family) {
    case 'AF_INET':
      return attempt.address && isLoopbackV4(attempt.address) ? null : `IPv4 connect to ${attempt.address}:${attempt.port}`;
    case 'AF_INET6':
      return attempt.address && isLoopbackV6(attempt.address) ? null : `IPv6 connect to [${attempt.address}]:${attempt.port}`;
    case 'AF_UNIX': {
      const refused = attempt.result !== null && attempt.result !== '0';
      return attempt.address !== null && NAME_SERVICE_SOCKETS.has(attempt.address) && !refused ? `name lookup through ${attempt.address}` : null;
    }
    case 'AF_UNSPEC':
    case 'AF_NETLINK':
      return null;
    default:
      return `connect of family ${attempt.family ?? '(unreadable)'}`;
  }
}

/** pid → the command it exec'd last (for messages: which child made the attempt). */
export function commandsByPid(trace: string): Map<number, string> {
  const commands = new Map<number, string>();
  for (const match of trace.matchAll(/^(\d+)\s+execve\("[^"]*", \[([^\]]*)\]/gm)) commands.set(Number(match[1]), match[2]!.slice(0, 200));
  return commands;
}

/** The attempts that leave the box, each described with the command that made it. */
export function outboundAttempts(trace: string): string[] {
  const commands = commandsByPid(trace);
  return parseConnects(trace).flatMap((attempt) => {
    const reason = leavesTheBox(attempt);
    return reason ? [`${reason} (pid ${attempt.pid}${commands.has(attempt.pid) ? `, ${commands.get(attempt.pid)}` : ', a thread or fork of a traced process'}): ${attempt.line}`] : [];
  });
}
