/**
 * Events an endpoint can subscribe to:
 * - `model.registered`: a version was uploaded (its labels, metrics, and the experiment started with it);
 * - `experiment.rolled_back`: a guardrail ended an experiment (which one failed, and why);
 * - `experiment.completed`: an admin promoted a variant or stopped the experiment (`data.outcome`);
 * - `quantization.decided`: the int8 gate kept or refused int8 for a version, with the report's figures.
 * `webhook.test` goes only to the endpoint whose test button was pressed.
 */
export const WEBHOOK_EVENT_TYPES = ['model.registered', 'experiment.rolled_back', 'experiment.completed', 'quantization.decided'] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
