import { z } from 'zod';
import { defaultDataDir } from '../config/defaultDataDir.js';
import { serverSettingsSchema } from '../config/serverSettings.js';
import { EXECUTION_PROVIDERS } from '../hardware/planExecution.js';
import type { StartOptions } from '../startServer.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const positiveInt = z.coerce.number().int().min(1);

/** Flag > environment variable; what neither says is left to saved settings and defaults. */
export function parseServeOptions(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv): Omit<StartOptions, 'logger'> {
  const pick = (flag: string, variable: string) => flags[flag] ?? env[variable] ?? undefined;
  const check = <T>(schema: z.ZodType<T>, value: string | undefined, what: string): T | undefined => {
    if (value === undefined) return undefined;
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new UsageError(`${what}: '${value}' is not valid (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    return parsed.data;
  };
  const shape = serverSettingsSchema.shape;
  const overrides = {
    host: check(shape.host.unwrap(), pick('host', 'INFERBOX_HOST'), '--host / INFERBOX_HOST'),
    port: check(z.coerce.number().pipe(shape.port.unwrap()), pick('port', 'INFERBOX_PORT'), '--port / INFERBOX_PORT'),
    tls: check(shape.tls.unwrap(), pick('tls', 'INFERBOX_TLS'), '--tls / INFERBOX_TLS (auto, on or off)'),
    // A number, or the words auto and off: only a string of digits is read as a number.
    grpc_port: check(z.string().transform((v) => (/^\d+$/.test(v) ? Number(v) : v)).pipe(shape.grpc_port.unwrap()), pick('grpc-port', 'INFERBOX_GRPC_PORT'), '--grpc-port / INFERBOX_GRPC_PORT (a port, 0 for a free one, auto or off)'),
  };
  const instances = check(positiveInt, pick('instances', 'INFERBOX_INSTANCES'), '--instances / INFERBOX_INSTANCES');
  const intraOpThreads = check(positiveInt, pick('threads', 'INFERBOX_THREADS'), '--threads / INFERBOX_THREADS');
  const provider = check(z.enum(EXECUTION_PROVIDERS), pick('provider', 'INFERBOX_PROVIDER'), `--provider / INFERBOX_PROVIDER (${EXECUTION_PROVIDERS.join(', ')})`);
  return {
    dataDir: pick('data-dir', 'INFERBOX_DATA_DIR') ?? defaultDataDir(),
    overrides: Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
    execution: { ...(instances ? { instances } : {}), ...(intraOpThreads ? { intraOpThreads } : {}), ...(provider ? { provider } : {}) },
  };
}
