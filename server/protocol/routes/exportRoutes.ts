import { z } from 'zod';
import { parseRequest } from '../../common/parseRequest.js';
import { assertModelName, assertVersion } from '../../common/names.js';
import type { ExportTarget } from '../../export/ExportTarget.js';
import { kserveManifest } from '../../export/kserveManifest.js';
import { opsetWarning } from '../../export/opsetWarning.js';
import { serviceName } from '../../export/serviceName.js';
import { tritonArchive } from '../../export/tritonArchive.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import type { RouteSpec } from '../routeTable.js';

const exportQuery = z.object({ format: z.enum(['triton', 'kserve']) }).strict();

/**
 * Export of a version for users who outgrow one box (admin): a Triton model repository (.tar.gz)
 * or a KServe InferenceService manifest. The same OIP v2 protocol, so clients keep working.
 */
export function exportRoutes(services: AppServices): RouteSpec[] {
  const targetOf = (model: string, version: string): ExportTarget => {
    const view = services.registry.getVersion(model, version);
    const files = services.registry.filesOf(model, version);
    const settings = services.modelSettings.effective(model);
    return {
      model,
      version,
      precision: view.served_precision,
      file: view.served_precision === 'int8' ? files.int8 : files.fp32,
      // The upload's; the int8 file keeps its default-domain opset (quantization adds contrib ops only).
      opset: view.opset,
      inputs: view.inputs,
      outputs: view.outputs,
      settings,
      labels: view.labels,
      metrics: view.metrics,
      created_at: view.created_at,
    };
  };
  return [
    {
      method: 'GET',
      path: '/api/models/:model/versions/:version/export',
      access: 'admin',
      handler: async (ctx) => {
        const { format } = parseRequest(exportQuery, ctx.query);
        const target = targetOf(assertModelName(ctx.params.model!), assertVersion(ctx.params.version!));
        ctx.set('Inferbox-Exported-Precision', target.precision);
        const warning = opsetWarning(target);
        if (warning !== null) ctx.set('Inferbox-Export-Warning', warning);
        if (format === 'triton') {
          ctx.body = await tritonArchive(target);
          ctx.type = 'application/gzip';
          ctx.attachment(`${target.model}-${target.version}-triton.tar.gz`);
        } else {
          ctx.body = kserveManifest(target);
          ctx.attachment(`${serviceName(target.model, target.version)}-inferenceservice.json`);
          ctx.type = 'application/json';
        }
        auditAction(services, ctx, 'model.export', `${target.model}/${target.version}`, { format, precision: target.precision });
      },
    },
  ];
}
