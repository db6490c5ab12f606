import { createReadStream } from 'node:fs';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import type { RouteSpec } from '../routeTable.js';

/**
 * Backups of the data (database snapshot, model files, TLS pair): make one now, list them, download
 * one. Restoring is the CLI's (`inferbox restore FILE`, on a stopped server): a running server
 * cannot replace its own open database. Downloads are audited: an archive holds the TLS private key.
 */
export function backupRoutes(services: AppServices): RouteSpec[] {
  return [
    {
      method: 'POST',
      path: '/api/backup',
      access: 'admin',
      handler: async (ctx) => {
        const { path: _path, ...file } = await services.backups.create('manual');
        auditAction(services, ctx, 'backup.create', file.name, { reason: file.reason, size_bytes: file.size_bytes });
        ctx.status = 201;
        ctx.body = file;
      },
    },
    { method: 'GET', path: '/api/backups', access: 'admin', handler: async (ctx) => { ctx.body = { directory: services.backups.directory, backups: await services.backups.list() }; } },
    {
      method: 'GET',
      path: '/api/backups/:name',
      access: 'admin',
      handler: async (ctx) => {
        const path = await services.backups.pathOf(ctx.params.name!);
        auditAction(services, ctx, 'backup.download', ctx.params.name!, null);
        ctx.type = 'application/gzip';
        ctx.attachment(ctx.params.name!);
        ctx.body = createReadStream(path);
      },
    },
  ];
}
