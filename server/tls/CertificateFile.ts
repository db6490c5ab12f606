import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { subjectAltNames } from './subjectAltNames.js';

/** The key, the chain and what they are, in one file: one rename replaces the pair, so a crash never leaves a key beside another key's certificate. */
const TLS_STATE_FILE = 'tls.json';
/** The certificate chain alone, for `curl --cacert` and the desktop app: a copy of what tls.json holds. */
const TLS_CERT_FILE = 'tls.crt';
/** Before tls.json the key lived here; it is moved into tls.json on the first start that finds it. */
const LEGACY_KEY_FILE = 'tls.key';

const storedCertificateSchema = z.object({
  format: z.literal(1),
  source: z.enum(['generated', 'uploaded']),
  key: z.string(),
  cert: z.string(),
  network: z.object({ hostname: z.string(), addresses: z.array(z.string()) }),
  lastChange: z.object({ kind: z.enum(['created', 'renewed', 'regenerated', 'uploaded']), at: z.string(), reason: z.string() }),
});

/** The serving pair and where it came from: generated here (renewed automatically) or uploaded by an admin (never touched). */
export type StoredCertificate = Omit<z.infer<typeof storedCertificateSchema>, 'format'>;
export type CertificateChange = StoredCertificate['lastChange'];

/** Writes through a temporary file in the same folder, flushed, then renamed over the old one. */
async function writeAtomically(path: string, data: string, mode: number): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** The appliance's TLS pair on disk (data dir): read, migrated from the older two-file layout, replaced atomically. */
export class CertificateFile {
  constructor(private readonly dataDir: string) {}

  get certificatePath(): string {
    return join(this.dataDir, TLS_CERT_FILE);
  }

  async read(): Promise<StoredCertificate | null> {
    await this.removeLeftovers();
    let text: string;
    try {
      text = await readFile(join(this.dataDir, TLS_STATE_FILE), 'utf8');
    } catch (error) {
      if (!isMissing(error)) throw error;
      return this.migrateLegacy();
    }
    // A broken file is an error to look at, never a reason to make a new key: that would break every pinned client.
    const { format: _format, ...stored } = storedCertificateSchema.parse(JSON.parse(text));
    if ((await readFile(this.certificatePath, 'utf8').catch(() => null)) !== stored.cert) await writeAtomically(this.certificatePath, stored.cert, 0o644);
    return stored;
  }

  async write(stored: StoredCertificate): Promise<void> {
    await writeAtomically(join(this.dataDir, TLS_STATE_FILE), JSON.stringify({ format: 1, ...stored }, null, 2), 0o600);
    await writeAtomically(this.certificatePath, stored.cert, 0o644);
  }

  /** tls.key + tls.crt from before tls.json: generated at a first HTTPS start. */
  private async migrateLegacy(): Promise<StoredCertificate | null> {
    const keyPath = join(this.dataDir, LEGACY_KEY_FILE);
    let key: string;
    let cert: string;
    try {
      [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(this.certificatePath, 'utf8')]);
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    const names = subjectAltNames(cert); // the leaf: the chain's first certificate
    const stored: StoredCertificate = {
      source: 'generated',
      key,
      cert,
      network: { hostname: names.dnsNames.find((n) => n !== 'localhost') ?? '', addresses: names.ipAddresses.filter((a) => a !== '127.0.0.1' && a !== '::1') },
      lastChange: { kind: 'created', at: (await stat(this.certificatePath)).mtime.toISOString(), reason: 'on the first HTTPS start' },
    };
    await this.write(stored);
    await unlink(keyPath);
    return stored;
  }

  /** Temporary files of a write a crash interrupted (they may hold a private key). */
  private async removeLeftovers(): Promise<void> {
    const names = await readdir(this.dataDir);
    await Promise.all(names.filter((n) => n.startsWith(`${TLS_STATE_FILE}.`) || n.startsWith(`${TLS_CERT_FILE}.`)).filter((n) => n.endsWith('.tmp')).map((n) => unlink(join(this.dataDir, n))));
  }
}
