import { inferboxError } from '../common/errors.js';
import { parseRequest } from '../common/parseRequest.js';
import { experimentInputSchema } from '../experiments/experimentConfig.js';
import { assertWithinPipelineLimits } from '../experiments/pipelineExperimentLimits.js';
import type { ExperimentView } from '../experiments/ExperimentService.js';
import type { ReceivedUpload, VersionView } from '../registry/ModelRegistry.js';
import type { AppServices } from './AppServices.js';
import type { UploadMetadata } from './uploadMetadataSchema.js';

export interface Registration {
  name: string;
  upload: ReceivedUpload;
  metadata: UploadMetadata;
  activate: boolean;
  createdBy: string | null;
  /**
   * For a non-admin caller (a `models:write` key): `pipeline_max_treatment_share`, the most
   * traffic its experiment may give the upload (pipelineExperimentLimits). null for an admin.
   */
  pipelineMaxShare: number | null;
}

/** The experiment a pipeline asks for, with its variants filled in (control = what serves today). */
function experimentInput(name: string, spec: Record<string, unknown>, control: string, candidate: string) {
  return parseRequest(experimentInputSchema, { ...spec, model: name, variants: [{ name: 'control', version: control }, { name: 'candidate', version: candidate }] });
}

/**
 * Registers a received upload as a new version with its labels and metrics and, when asked,
 * creates and starts an experiment of it against the active version. All or nothing: when the
 * experiment cannot start, the new version is deleted again, so a pipeline can simply retry.
 * What can be checked before placing (an active version to compare with, the experiment's
 * fields) is checked first, and the upload is discarded on failure.
 */
export async function registerModelVersion(services: AppServices, registration: Registration): Promise<{ version: VersionView; experiment: ExperimentView | null }> {
  const { registry, experiments } = services;
  const { name, upload, metadata } = registration;
  const { experiment: spec, ...versionMetadata } = metadata;
  const control = services.store.models.getModel(name)?.active_version ?? null;
  try {
    if (spec && registration.activate) throw inferboxError('IBX_ERR_INVALID_REQUEST', 'an experiment tests the upload against the active version: do not also activate it');
    if (spec && control === null) throw inferboxError('IBX_ERR_CONFLICT', `model '${name}' has no active version to run an experiment against: register the first version without one`);
    if (spec) {
      const input = experimentInput(name, spec, control!, services.store.models.nextVersion(name));
      if (registration.pipelineMaxShare !== null) assertWithinPipelineLimits(input, registration.pipelineMaxShare);
    }
  } catch (error) {
    await registry.discardUpload(upload);
    throw error;
  }

  const version = await registry.placeUpload(name, upload, { activate: registration.activate, createdBy: registration.createdBy, metadata: versionMetadata });
  if (!spec) return { version, experiment: null };
  let created: ExperimentView | undefined;
  try {
    created = experiments.create(experimentInput(name, spec, control!, version.version));
    return { version, experiment: experiments.transition(created.id, 'start') };
  } catch (error) {
    if (created) experiments.delete(created.id);
    await registry.deleteVersion(name, version.version);
    throw error;
  }
}
