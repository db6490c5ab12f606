import { inferboxError } from '../../common/errors.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import type { RouteSpec } from '../routeTable.js';

/** Addresses backing off or blocked after failed authentication (the console's Keys page), and the admin's unblock. */
export function securityRoutes(services: AppServices): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/api/security/blocked-addresses',
      access: 'admin',
      handler: (ctx) => { ctx.body = { addresses: services.failedAuth.list() }; },
    },
    {
      method: 'DELETE',
      path: '/api/security/blocked-addresses/:address',
      access: 'admin',
      handler: (ctx) => {
        const address = ctx.params.address!;
        if (!services.failedAuth.unblock(address)) throw inferboxError('IBX_ERR_ADDRESS_NOT_THROTTLED', address);
        auditAction(services, ctx, 'security.unblock', address);
        ctx.body = { address, unblocked: true };
      },
    },
  ];
}
