import type { Migration } from './Migration.js';
import { migration001Initial } from './001_initial.js';
import { migration002Quantization } from './002_quantization.js';
import { migration003Jobs } from './003_jobs.js';

/** Every migration in order; a new one is appended here and gets its own test with an older database. */
export const MIGRATIONS: readonly Migration[] = [migration001Initial, migration002Quantization, migration003Jobs];
