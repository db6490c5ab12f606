import type { Migration } from './Migration.js';
import { migration001Initial } from './001_initial.js';
import { migration002Quantization } from './002_quantization.js';
import { migration003Serving } from './003_serving.js';
import { migration004Jobs } from './004_jobs.js';
import { migration005Experiments } from './005_experiments.js';
import { migration006PayloadLogging } from './006_payload_logging.js';
import { migration007KeyRateLimits } from './007_key_rate_limits.js';
import { migration008PayloadPrivacy } from './008_payload_privacy.js';
import { migration010ModelCards } from './010_model_cards.js';
import { migration011TraceIds } from './011_trace_ids.js';
import { migration012Pipeline } from './012_pipeline.js';
import { migration013Placements } from './013_placements.js';
import { migration014SessionCost } from './014_session_cost.js';
import { migration015Tuning } from './015_tuning.js';

/**
 * Every migration in order; a new one is appended here and gets its own test with an older database.
 * Numbers need not be contiguous (009 was never used): the database records the last one applied.
 */
export const MIGRATIONS: readonly Migration[] = [migration001Initial, migration002Quantization, migration003Serving, migration004Jobs, migration005Experiments, migration006PayloadLogging, migration007KeyRateLimits, migration008PayloadPrivacy, migration010ModelCards, migration011TraceIds, migration012Pipeline, migration013Placements, migration014SessionCost, migration015Tuning];
