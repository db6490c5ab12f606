import type { ExecutionProviderName } from '../common/executionProviders.js';
import type { ExecutionPlan } from './planExecution.js';

/** A model's serving settings that decide how its sessions run. */
export interface ModelExecutionSettings {
  provider: 'auto' | ExecutionProviderName;
  intraOpThreads: number;
}

/**
 * A model's own execution settings for its sessions, or undefined when it follows the server's
 * plan (`auto` and the plan's threads): then nothing about its sessions differs from before, its
 * session keys included. A forced provider keeps the CPU as the fallback for sessions it cannot create.
 */
export function modelExecution(plan: Pick<ExecutionPlan, 'executionProviders' | 'intraOpThreads'>, settings: ModelExecutionSettings): { executionProviders: string[]; intraOpThreads: number } | undefined {
  if (settings.provider === 'auto' && settings.intraOpThreads === plan.intraOpThreads) return undefined;
  const executionProviders = settings.provider === 'auto' ? plan.executionProviders : settings.provider === 'cpu' ? ['cpu'] : [settings.provider, 'cpu'];
  return { executionProviders: [...executionProviders], intraOpThreads: settings.intraOpThreads };
}
