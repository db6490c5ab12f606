import type { AppContext } from './AppContext.js';
import type { AppServices } from './AppServices.js';

/** Records an admin action with who did it, from where and when. */
export function auditAction(services: AppServices, ctx: AppContext, action: string, target: string | null, details: Record<string, unknown> | null = null): void {
  const principal = ctx.state.principal;
  services.store.audit.insert({
    ts: new Date().toISOString(),
    actor_id: principal?.keyId ?? null,
    actor_name: principal?.name ?? 'anonymous',
    action,
    target,
    details,
    remote_addr: ctx.ip || null,
  });
}
