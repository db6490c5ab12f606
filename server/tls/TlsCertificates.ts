import { X509Certificate } from 'node:crypto';
import { certificateCovers } from './certificateCovers.js';
import type { CertificateChange, CertificateFile, StoredCertificate } from './CertificateFile.js';
import { createSelfSignedCertificate, type CertificatePair } from './createSelfSignedCertificate.js';
import { describeCertificate, type CertificateDescription } from './describeCertificate.js';
import { isLoopbackHost } from './isLoopbackHost.js';
import type { NetworkNames, NetworkSource } from './NetworkSource.js';
import { validateUploadedCertificate } from './validateUploadedCertificate.js';

/** A generated certificate this close to its end is reissued (same key) at the next check. */
const RENEW_BEFORE_EXPIRY_MS = 30 * 24 * 3_600_000;
const WILDCARD_BINDS = new Set(['0.0.0.0', '::']);

export interface CertificateStatus {
  /** The listener serves HTTPS now. */
  https: boolean;
  /** The listener is on a LAN address without TLS: keys and payloads cross the network in clear text. */
  plainHttpOnLan: boolean;
  source: StoredCertificate['source'] | null;
  certificate: CertificateDescription | null;
  lastChange: CertificateChange | null;
  /** For an uploaded certificate: names this machine gained since the upload that it does not cover (it is never changed for them). */
  uncoveredNewNames: string[];
}

export interface TlsCertificatesOptions {
  file: CertificateFile;
  network: NetworkSource;
  /** The configured bind address (`host`). */
  bindHost: string;
  /** Whether the listener serves HTTPS (the `tls` setting resolved for the bind address). */
  https: boolean;
  /** An automatic renewal happened (for the audit log and the server log). */
  onRenewed: (stored: StoredCertificate) => void;
  onError: (error: unknown) => void;
  now?: () => Date;
}

/**
 * The machine's names as far as this listener is concerned: an IPv4 bind (0.0.0.0 or one IPv4
 * address) cannot be reached over IPv6, so its IPv6 addresses are left out — they are also the
 * ones that change by themselves (privacy extensions rotate temporary addresses daily), which
 * would reissue the certificate for addresses nobody can use.
 */
function servedNames(bindHost: string, names: NetworkNames): NetworkNames {
  return bindHost.includes(':') ? names : { hostname: names.hostname, addresses: names.addresses.filter((a) => !a.includes(':')) };
}

/**
 * The names clients use to reach the server: the bind address when it is one address or name;
 * for a wildcard bind the host name and every LAN address (loopback names prove nothing about how
 * the LAN reaches the machine).
 */
function reachableNames(bindHost: string, network: NetworkNames): string[] {
  if (!WILDCARD_BINDS.has(bindHost)) return [bindHost];
  return [network.hostname, ...network.addresses].filter(Boolean);
}

/**
 * The serving certificate: made on the first HTTPS start, reissued with the same key when the
 * machine gains a name it does not cover, replaced by an admin's upload or a regeneration, and
 * swapped into the running listener each time. Changes run one at a time.
 */
export class TlsCertificates {
  #stored: StoredCertificate | null = null;
  #apply: ((pair: CertificatePair) => void) | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #stopWatching: (() => void) | null = null;
  readonly #now: () => Date;

  constructor(private readonly options: TlsCertificatesOptions) {
    this.#now = options.now ?? (() => new Date());
  }

  /** Reads the stored pair; when serving HTTPS, makes one on first use and renews a generated one that is out of date. */
  async load(): Promise<CertificatePair | null> {
    this.#stored = await this.options.file.read();
    if (!this.options.https) return null;
    if (this.#stored === null) {
      const names = this.#names();
      await this.#replace({ ...(await createSelfSignedCertificate(names)), source: 'generated', network: names, lastChange: this.#change('created', 'on the first HTTPS start') });
    } else {
      // A renewal that fails (a full disk) must not stop the server: the current pair still serves.
      await this.#renewIfNeeded(this.#names()).catch(this.options.onError);
    }
    return this.#pair();
  }

  /** From now on, changes are swapped into the listener (`tls.Server#setSecureContext`), and the machine's names are watched. */
  attach(apply: (pair: CertificatePair) => void): void {
    this.#apply = apply;
    this.#stopWatching = this.options.network.watch((names) => {
      this.#serial(() => this.#renewIfNeeded(servedNames(this.options.bindHost, names))).catch(this.options.onError);
    });
  }

  close(): void {
    this.#stopWatching?.();
    this.#stopWatching = null;
  }

  /** An admin's certificate (PEM: key + chain): validated, stored, served from the next handshake on. */
  upload(bundle: string): Promise<{ stored: StoredCertificate; applied: boolean }> {
    return this.#serial(async () => {
      const network = this.#names();
      const pair = validateUploadedCertificate(bundle, { now: this.#now(), reachableNames: reachableNames(this.options.bindHost, network), hostname: network.hostname });
      return this.#replace({ ...pair, source: 'uploaded', network, lastChange: this.#change('uploaded', 'by an admin') });
    });
  }

  /** A new key and a new self-signed certificate: fingerprints and pinned public keys both change. */
  regenerate(): Promise<{ stored: StoredCertificate; applied: boolean }> {
    return this.#serial(async () => {
      const network = this.#names();
      const pair = await createSelfSignedCertificate(network);
      return this.#replace({ ...pair, source: 'generated', network, lastChange: this.#change('regenerated', 'by an admin, with a new key') });
    });
  }

  /** The stored certificate chain (PEM), or null when there is none. */
  certificatePem(): string | null {
    return this.#stored?.cert ?? null;
  }

  status(): CertificateStatus {
    const stored = this.#stored;
    const https = this.options.https;
    const base = { https, plainHttpOnLan: !https && !isLoopbackHost(this.options.bindHost) };
    if (!stored) return { ...base, source: null, certificate: null, lastChange: null, uncoveredNewNames: [] };
    return { ...base, source: stored.source, certificate: describeCertificate(stored.cert), lastChange: stored.lastChange, uncoveredNewNames: stored.source === 'uploaded' ? this.#uncoveredNewNames(stored) : [] };
  }

  #uncoveredNewNames(stored: StoredCertificate): string[] {
    const known = new Set([stored.network.hostname, ...stored.network.addresses]);
    const leaf = new X509Certificate(stored.cert).toString();
    const now = this.#names();
    return reachableNames(this.options.bindHost, now).filter((name) => !known.has(name) && !certificateCovers(leaf, name, { asHostname: name === now.hostname }));
  }

  /**
   * Reissues a generated certificate, same key, when the machine has a name it does not cover or
   * it nears its end. A name that went away alone is no reason: it is harmless in the certificate,
   * and an interface that drops for a moment would otherwise change the fingerprint twice.
   */
  async #renewIfNeeded(names: NetworkNames): Promise<void> {
    const stored = this.#stored;
    if (!stored || stored.source !== 'generated') return;
    const leaf = new X509Certificate(stored.cert);
    const missing = [names.hostname, ...names.addresses].filter((name) => name && !certificateCovers(leaf.toString(), name));
    const expiring = new Date(leaf.validTo).getTime() - this.#now().getTime() < RENEW_BEFORE_EXPIRY_MS;
    if (missing.length === 0 && !expiring) return;
    const reason = missing.length > 0
      ? `the machine's names changed: ${missing.join(', ')} ${missing.length === 1 ? 'was' : 'were'} not covered`
      : `it expires on ${new Date(leaf.validTo).toISOString()}`;
    const pair = await createSelfSignedCertificate(names, stored.key);
    const { stored: renewed } = await this.#replace({ ...pair, source: 'generated', network: names, lastChange: this.#change('renewed', `${reason}; reissued with the same key`) });
    this.options.onRenewed(renewed);
  }

  /** Persist first (a crash leaves the old or the new pair, whole), then serve it. */
  async #replace(next: StoredCertificate): Promise<{ stored: StoredCertificate; applied: boolean }> {
    await this.options.file.write(next);
    this.#stored = next;
    this.#apply?.({ key: next.key, cert: next.cert });
    return { stored: next, applied: this.#apply !== null };
  }

  #names(): NetworkNames {
    return servedNames(this.options.bindHost, this.options.network.current());
  }

  #pair(): CertificatePair | null {
    return this.#stored ? { key: this.#stored.key, cert: this.#stored.cert } : null;
  }

  #change(kind: CertificateChange['kind'], reason: string): CertificateChange {
    return { kind, at: this.#now().toISOString(), reason };
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
