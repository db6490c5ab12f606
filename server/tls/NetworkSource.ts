import { lanAddresses, machineHostname } from './lanAddresses.js';

/** The names other machines reach this one by: its host name and its LAN addresses. */
export interface NetworkNames {
  hostname: string;
  addresses: string[];
}

/**
 * Where the server learns its names, and when they change (DHCP gives a new address, a cable or
 * Wi-Fi comes up). Injectable, so a test can change the addresses of a real running server.
 */
export interface NetworkSource {
  current(): NetworkNames;
  /** Calls `listener` whenever the names change; returns a function that stops watching. */
  watch(listener: (names: NetworkNames) => void): () => void;
}

/**
 * How often the machine's addresses are read. Operating systems have no portable change event
 * (Node has none); reading the interfaces is a cheap syscall, and a minute is short next to a DHCP
 * lease and long enough never to matter for load.
 */
const NETWORK_CHECK_INTERVAL_MS = 60_000;

const sameNames = (a: NetworkNames, b: NetworkNames) => a.hostname === b.hostname && [...a.addresses].sort().join() === [...b.addresses].sort().join();

/** The operating system's names, read every NETWORK_CHECK_INTERVAL_MS while watched. */
export function systemNetworkSource(): NetworkSource {
  const current = () => ({ hostname: machineHostname(), addresses: lanAddresses() });
  return {
    current,
    watch(listener) {
      let last = current();
      const timer = setInterval(() => {
        const now = current();
        if (sameNames(now, last)) return;
        last = now;
        listener(now);
      }, NETWORK_CHECK_INTERVAL_MS);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
