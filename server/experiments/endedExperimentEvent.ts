import type { EndedExperiment } from './ExperimentService.js';

/** How an ended experiment reads in a webhook (`experiment.rolled_back` / `experiment.completed`). */
export function endedExperimentEvent({ experiment, outcome, detail }: EndedExperiment): Record<string, unknown> {
  return {
    experiment_id: experiment.id,
    name: experiment.name,
    model: experiment.model,
    outcome,
    status: experiment.status,
    end_reason: experiment.end_reason,
    variants: experiment.variants.map((v) => ({ name: v.name, version: v.version })),
    started_at: experiment.started_at,
    ended_at: experiment.ended_at,
    ...detail,
  };
}
