import type { AppServices } from './AppServices.js';
import type { RouteSpec } from './routeTable.js';
import { backupRoutes } from './routes/backupRoutes.js';
import { cardRoutes } from './routes/cardRoutes.js';
import { consoleRoutes } from './routes/consoleRoutes.js';
import { experimentRoutes } from './routes/experimentRoutes.js';
import { healthRoutes } from './routes/healthRoutes.js';
import { jobRoutes } from './routes/jobRoutes.js';
import { keyRoutes } from './routes/keyRoutes.js';
import { logRoutes } from './routes/logRoutes.js';
import { metricsRoutes } from './routes/metricsRoutes.js';
import { modelRoutes } from './routes/modelRoutes.js';
import { oipRoutes } from './routes/oipRoutes.js';
import { payloadRoutes } from './routes/payloadRoutes.js';
import { predictRoutes } from './routes/predictRoutes.js';
import { placementRoutes } from './routes/placementRoutes.js';
import { quantizationRoutes } from './routes/quantizationRoutes.js';
import { securityRoutes } from './routes/securityRoutes.js';
import { systemRoutes } from './routes/systemRoutes.js';
import { tlsRoutes } from './routes/tlsRoutes.js';
import { webhookRoutes } from './routes/webhookRoutes.js';
import { exportRoutes } from './routes/exportRoutes.js';
import { tuningRoutes } from './routes/tuningRoutes.js';

/**
 * Every route the server mounts, each with its access rule (see routeTable.ts): the one list that
 * createApp mounts and that the authorization matrix test (test/server/protocol/authorizationMatrix)
 * walks. Building it only declares routes: the factories keep `services` for their handlers and
 * call nothing on it, so the list's methods, paths and access rules never depend on the services.
 */
export function allRoutes(services: AppServices): RouteSpec[] {
  return [
    ...healthRoutes(services),
    ...consoleRoutes(services.consoleDir),
    ...oipRoutes(services),
    ...predictRoutes(services),
    ...cardRoutes(services),
    ...modelRoutes(services),
    ...exportRoutes(services),
    ...experimentRoutes(services),
    ...quantizationRoutes(services),
    ...placementRoutes(services),
    ...tuningRoutes(services),
    ...jobRoutes(services),
    ...keyRoutes(services),
    ...securityRoutes(services),
    ...logRoutes(services),
    ...payloadRoutes(services),
    ...systemRoutes(services),
    ...metricsRoutes(services),
    ...tlsRoutes(services),
    ...backupRoutes(services),
    ...webhookRoutes(services),
  ];
}
