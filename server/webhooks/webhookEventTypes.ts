/**
 * Events an endpoint can subscribe to:
 * - `model.registered`: a version was uploaded (its labels, metrics, and the experiment started with it);
 * - `experiment.rolled_back`: a guardrail ended an experiment (which one failed, and why);
 * - `experiment.completed`: an admin promoted a variant or stopped the experiment (`data.outcome`);
 * - `quantization.decided`: the int8 gate kept or refused int8 for a version, with the report's figures;
 * - `capacity.warning`: a model's load stayed above `capacity_warning_ratio` of its tuned capacity for five minutes;
 * - `capacity.remediation`: adaptive remediation stepped a model to a larger tuned candidate, or back (`data.action`).
 * `webhook.test` goes only to the endpoint whose test button was pressed.
 */
export const WEBHOOK_EVENT_TYPES = ['model.registered', 'experiment.rolled_back', 'experiment.completed', 'quantization.decided', 'capacity.warning', 'capacity.remediation'] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
