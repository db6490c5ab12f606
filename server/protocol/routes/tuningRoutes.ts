import { z } from 'zod';
import { inferboxError } from '../../common/errors.js';
import { assertModelName, assertVersion } from '../../common/names.js';
import { parseRequest } from '../../common/parseRequest.js';
import type { TuningRow } from '../../store/TuningRepository.js';
import { capacityOf, type Choice } from '../../tuning/chooseCandidate.js';
import type { CandidateResult } from '../../tuning/tuningProtocol.js';
import { MAX_BUDGET_SECONDS, type TuningPlan } from '../../tuning/TuningJobs.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import { readRawBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';
import { parseJsonText } from '../../common/parseJsonText.js';

const startSchema = z.object({ budget_seconds: z.number().min(10).max(MAX_BUDGET_SECONDS).optional() }).strict();
const applySchema = z.object({ candidate: z.string().min(1).max(100).optional() }).strict();

/** A small optional JSON body: none (or an empty one) is `{}`. */
async function optionalJson(ctx: AppContext): Promise<unknown> {
  const raw = await readRawBody(ctx.req, 4096);
  return raw.length === 0 ? {} : parseJsonText(raw.toString('utf8'), 'the body');
}

/**
 * A run as the API and the console show it: each candidate with its settings, its measured curve
 * and its capacity within the objective, the choice, what the choice predicts, and whether it is
 * applied. `status` is `none` for a version never tuned.
 */
function tuningView(name: string, version: string, row: TuningRow | undefined) {
  if (!row) return { name, version, status: 'none' as const };
  const plan = row.plan as unknown as TuningPlan;
  const all = row.results as unknown as CandidateResult[];
  const results = new Map(all.filter((r) => !r.confirmation).map((r) => [r.id, r]));
  const again = new Map(all.filter((r) => r.confirmation).map((r) => [r.id, r]));
  const objective = row.objective_p95_ms;
  const choice = row.choice as Choice | null;
  return {
    name,
    version,
    status: row.status,
    budget_seconds: row.budget_seconds,
    objective_p95_ms: objective,
    started_at: row.started_at,
    finished_at: row.finished_at,
    error: row.error,
    progress: { measured: results.size, planned: plan.candidates.length },
    concurrencies: plan.concurrencies,
    level_seconds: plan.level_seconds,
    inputs: plan.inputs,
    skipped: plan.skipped,
    candidates: plan.candidates.map((candidate) => {
      const result = results.get(candidate.id);
      const second = again.get(candidate.id);
      return {
        ...candidate,
        measured: result !== undefined,
        error: result?.error ?? null,
        curve: result?.curve ?? [],
        capacity: result && objective !== null ? capacityOf(result.curve, objective) : null,
        /** The second measurement, for the current serving and the provisional choice (what the choice rests on). */
        confirmation: second ? { curve: second.curve, error: second.error, capacity: objective !== null ? capacityOf(second.curve, objective) : null } : null,
      };
    }),
    choice,
    /** Requests/s the chosen candidate takes within the objective (what the capacity advisor counts on). */
    predicted_capacity_rps: choice?.capacity ? Math.round(choice.capacity.rps) : null,
    applied: row.applied_id === null ? null : { candidate: row.applied_id, at: row.applied_at },
  };
}

/** The built-in tuner for a version: start, status and result, cancel, apply the choice (or a candidate), revert; and every tuned model's load against its capacity. */
export function tuningRoutes(services: AppServices): RouteSpec[] {
  const { registry, tuning } = services;
  const path = '/api/models/:model/versions/:version/tuning';
  const params = (ctx: AppContext) => {
    const p = { name: assertModelName(ctx.params.model!), version: assertVersion(ctx.params.version!) };
    registry.getVersion(p.name, p.version); // 404 for a version that does not exist
    return p;
  };
  return [
    {
      method: 'GET',
      path: '/api/capacity',
      access: 'admin',
      handler: (ctx) => {
        // With each model, adaptive remediation's step in place (its snapshot of the settings to return to stays inside).
        const models = services.capacity.status().map((status) => {
          const stepped = tuning.status(status.model, status.version)?.remediation as { to: string; since: string; reason: string } | null | undefined;
          return { ...status, remediation: stepped ? { to: stepped.to, since: stepped.since, reason: stepped.reason } : null };
        });
        ctx.body = { warning_ratio: services.settings.current.capacity_warning_ratio, models };
      },
    },
    {
      method: 'GET',
      path,
      access: 'admin',
      handler: (ctx) => {
        const { name, version } = params(ctx);
        ctx.body = tuningView(name, version, tuning.status(name, version));
      },
    },
    {
      method: 'GET',
      path: `${path}/result`,
      access: 'admin',
      handler: (ctx) => {
        const { name, version } = params(ctx);
        const row = tuning.status(name, version);
        if (!row || row.status === 'running') throw inferboxError('IBX_ERR_CONFLICT', `version ${version} of '${name}' has no finished tuning run${row ? ' yet: it is running' : ''}`);
        ctx.body = tuningView(name, version, row);
      },
    },
    {
      method: 'POST',
      path,
      access: 'admin',
      handler: async (ctx) => {
        const { name, version } = params(ctx);
        const body = parseRequest(startSchema, await optionalJson(ctx));
        const row = await tuning.start(name, version, body.budget_seconds === undefined ? {} : { budgetSeconds: body.budget_seconds });
        auditAction(services, ctx, 'model.tuning.start', `${name}/${version}`, { budget_seconds: row.budget_seconds, objective_p95_ms: row.objective_p95_ms });
        ctx.status = 202;
        ctx.body = tuningView(name, version, row);
      },
    },
    {
      method: 'DELETE',
      path,
      access: 'admin',
      handler: (ctx) => {
        const { name, version } = params(ctx);
        tuning.cancel(name, version);
        auditAction(services, ctx, 'model.tuning.cancel', `${name}/${version}`);
        ctx.status = 202;
        ctx.body = tuningView(name, version, tuning.status(name, version));
      },
    },
    {
      method: 'POST',
      path: `${path}/apply`,
      access: 'admin',
      handler: async (ctx) => {
        const { name, version } = params(ctx);
        const { candidate } = parseRequest(applySchema, await optionalJson(ctx));
        const row = await tuning.apply(name, version, candidate);
        auditAction(services, ctx, 'model.tuning.apply', `${name}/${version}`, { candidate: row.applied_id, replaced: row.replaced });
        ctx.body = tuningView(name, version, row);
      },
    },
    {
      method: 'POST',
      path: `${path}/revert`,
      access: 'admin',
      handler: async (ctx) => {
        const { name, version } = params(ctx);
        const before = tuning.status(name, version);
        const row = await tuning.revert(name, version);
        auditAction(services, ctx, 'model.tuning.revert', `${name}/${version}`, { candidate: before?.applied_id ?? null, restored: before?.replaced ?? null });
        ctx.body = tuningView(name, version, row);
      },
    },
  ];
}
