import { readFile } from 'node:fs/promises';
import { inferboxError } from '../common/errors.js';
import { parseRequest } from '../common/parseRequest.js';
import { readClassLabels } from '../onnx/readClassLabels.js';
import type { ModelRegistry, ServedVersion } from '../registry/ModelRegistry.js';
import type { ModelCardRepository, ModelCardRow } from '../store/ModelCardRepository.js';
import { inferModelCard } from './inferModelCard.js';
import { modelCardSchema, type ModelCard } from './modelCard.js';
import { planCard, type CardPlan } from './planCard.js';

export interface ModelCardServiceDeps {
  cards: ModelCardRepository;
  registry: Pick<ModelRegistry, 'getModel' | 'getVersion' | 'filesOf'>;
  now?: () => Date;
}

/** A card as the API shows it: which one applies (the version's own or the model's) and when it was saved. */
export interface CardView {
  model: string;
  /** The version the card was read for (the active one when none was named). */
  version: string;
  /** Whether this is the version's own card or the model's. */
  scope: 'version' | 'model';
  card: ModelCard;
  updated_at: string;
  updated_by: string | null;
}

/** ONNX files up to this size are read for ai.onnx.ml class labels when a card is inferred; larger ones are not decoded in memory. */
const LABEL_SCAN_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Model cards: saved per model, or per version to override the model's (a version whose inputs
 * differ). A card is checked against the real signature when saved — the model's card against
 * every version that has no card of its own — and refused with every reason. Serving reads a
 * plan per version, cached by the file's hash and dropped when the model's cards change.
 */
export class ModelCardService {
  private readonly plans = new Map<string, CardPlan>();
  private readonly now: () => Date;

  constructor(private readonly deps: ModelCardServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The named version, else the active one (else the newest): the version a card is read or checked for. */
  private versionOf(model: string, version: string | undefined): string {
    const view = this.deps.registry.getModel(model);
    if (version !== undefined) return this.deps.registry.getVersion(model, version).version;
    return view.active_version ?? view.versions.at(-1)!.version;
  }

  private view(model: string, version: string, row: ModelCardRow): CardView {
    return { model, version, scope: row.version === null ? 'model' : 'version', card: row.card as ModelCard, updated_at: row.updated_at, updated_by: row.updated_by };
  }

  /** The card that applies to a version; `own` asks for the version's own card only. */
  get(model: string, version: string | undefined, own = false): CardView {
    const chosen = this.versionOf(model, version);
    const row = own ? this.deps.cards.ofVersion(model, chosen) : this.deps.cards.effective(model, chosen);
    if (!row) throw inferboxError('IBX_ERR_CARD_NOT_FOUND', model, own ? ` of its own for version ${chosen}` : '');
    return this.view(model, chosen, row);
  }

  /** A starting point from the version's signature and its ONNX class labels, with what is left to fill in. */
  async infer(model: string, version: string | undefined): Promise<{ model: string; version: string; card: ModelCard; notes: string[] }> {
    const chosen = this.versionOf(model, version);
    const view = this.deps.registry.getVersion(model, chosen);
    const labels = view.size_bytes <= LABEL_SCAN_MAX_BYTES ? readClassLabels(await readFile(this.deps.registry.filesOf(model, chosen).fp32)) : undefined;
    return { model, version: chosen, ...inferModelCard({ name: model, inputs: view.inputs, outputs: view.outputs }, labels) };
  }

  /**
   * Saves the model's card (version undefined) or a version's own. The model's card must fit
   * every version without a card of its own; a version's card must fit that version.
   */
  save(model: string, version: string | undefined, body: unknown, by: string | null): CardView {
    const card = parseRequest(modelCardSchema, body);
    const modelView = this.deps.registry.getModel(model);
    const own = new Set(this.deps.cards.versionsWithOwnCard(model));
    const checked = version !== undefined ? [this.deps.registry.getVersion(model, version).version] : modelView.versions.map((v) => v.version).filter((v) => !own.has(v));
    for (const v of checked) {
      const signature = this.deps.registry.getVersion(model, v);
      const result = planCard(card, { name: model, inputs: signature.inputs, outputs: signature.outputs });
      if ('problems' in result) throw inferboxError('IBX_ERR_CARD_INVALID', model, v, result.problems.join('; '));
    }
    this.deps.cards.put(model, version ?? null, card, this.now().toISOString(), by);
    this.forget(model);
    return this.get(model, version);
  }

  delete(model: string, version: string | undefined): void {
    this.deps.registry.getModel(model);
    if (version !== undefined) this.deps.registry.getVersion(model, version);
    if (!this.deps.cards.delete(model, version ?? null)) throw inferboxError('IBX_ERR_CARD_NOT_FOUND', model, version === undefined ? '' : ` of its own for version ${version}`);
    this.forget(model);
  }

  /**
   * How rows become tensors for the version that answers: 409 when it has no card, or when the
   * card no longer fits it (a new version with other inputs, reached by activation or an experiment).
   */
  planFor(served: ServedVersion): CardPlan {
    const key = `${served.name}/${served.version}/${this.deps.registry.getVersion(served.name, served.version).sha256}`;
    const cached = this.plans.get(key);
    if (cached) return cached;
    const row = this.deps.cards.effective(served.name, served.version);
    if (!row) throw inferboxError('IBX_ERR_NO_MODEL_CARD', served.name, served.version);
    // Stored cards were valid when saved; parsing again fills defaults a newer schema added.
    const result = planCard(modelCardSchema.parse(row.card), served);
    if ('problems' in result) throw inferboxError('IBX_ERR_CARD_STALE', served.name, served.version, result.problems.join('; '));
    this.plans.set(key, result.plan);
    return result.plan;
  }

  private forget(model: string): void {
    for (const key of this.plans.keys()) if (key.startsWith(`${model}/`)) this.plans.delete(key);
  }
}

