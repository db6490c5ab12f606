import type { GpuDeviceAccess } from './gpuDeviceAccess.js';
import type { ServiceOptions } from './ServiceOptions.js';

/** systemd quotes: a path with spaces stays one argument. */
const quote = (arg: string) => (/[\s"\\]/.test(arg) ? `"${arg.replace(/(["\\])/g, '\\$1')}"` : arg);

/**
 * GPU nodes through the private /dev rather than PrivateDevices=no: PrivateDevices=yes also hides
 * every other node, filters the @raw-io system calls, drops CAP_SYS_RAWIO and CAP_MKNOD and implies
 * DevicePolicy=closed (systemd.exec(5)), written out anyway so an admin reading the unit sees it.
 * DeviceAllow= only opens the cgroup device filter, it creates no node (systemd.resource-control(5)),
 * so each node is bound into the private /dev too. systemd binds them before it remounts that /dev
 * read-only, and a read-only mount does not stop writes to a device node. The "-" skips a node that
 * is gone at start (driver not loaded, card removed) instead of failing the start (226/NAMESPACE):
 * the server then falls back to the CPU. Groups are set on the service, not added to the user, so
 * uninstall leaves the account as it was.
 */
function gpuLines(gpu: GpuDeviceAccess): string {
  if (gpu.devices.length === 0) return '';
  return [
    'DevicePolicy=closed',
    ...gpu.devices.flatMap((node) => [`BindPaths=${quote(`-${node}`)}`, `DeviceAllow=${quote(node)} rw`]),
    ...(gpu.groups.length > 0 ? [`SupplementaryGroups=${gpu.groups.map(quote).join(' ')}`] : []),
  ].map((line) => `${line}\n`).join('');
}

/**
 * The Linux unit (systemd.exec(5), systemd.service(5)). Hardened as far as a Node server allows:
 * the whole file system read-only except the data dir, no privilege gain, private /tmp, no kernel
 * or cgroup tuning, no capabilities (unless the port is below 1024), no physical devices but the GPU
 * nodes found at install time. Not MemoryDenyWriteExecute: V8's JIT needs writable executable
 * memory. Restart on failure only: a clean stop (exit 0 after the drain) stays stopped.
 * TimeoutStopSec leaves the drain (shutdown_drain_seconds, 10 s) time to finish.
 */
export function systemdUnit(o: ServiceOptions): string {
  const underHome = /^\/(home|root)(\/|$)/.test(o.mainPath) || /^\/(home|root)(\/|$)/.test(o.nodePath);
  const lowPort = o.port > 0 && o.port < 1024;
  return `[Unit]
Description=Inferbox model server (OIP v2 inference, admin console)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${o.user}
Group=${o.user}
Environment=INFERBOX_DATA_DIR=${quote(o.dataDir)}
Environment=NODE_ENV=production
ExecStart=${[o.nodePath, o.mainPath, 'serve', '--data-dir', o.dataDir, '--port', String(o.port)].map(quote).join(' ')}
Restart=on-failure
RestartSec=5
KillSignal=SIGTERM
TimeoutStopSec=30
UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${quote(o.dataDir)}
ProtectHome=${underHome ? 'read-only' : 'yes'}
PrivateTmp=yes
PrivateDevices=yes
${gpuLines(o.gpu)}ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
CapabilityBoundingSet=${lowPort ? 'CAP_NET_BIND_SERVICE' : ''}
AmbientCapabilities=${lowPort ? 'CAP_NET_BIND_SERVICE' : ''}
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
}
