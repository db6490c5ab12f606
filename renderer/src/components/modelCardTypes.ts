/** The model card as the API sends it (server/predict/modelCard.ts). */
export interface CardFeature {
  name: string;
  type: 'number' | 'integer' | 'boolean' | 'category' | 'text' | 'image';
  description?: string;
  input: string;
  column: number;
  values?: string[];
  encoding?: 'index' | 'one_hot' | 'string';
  default?: number | boolean | string;
  max_length?: number;
  image?: Record<string, unknown>;
}

export interface ModelCard {
  description: string;
  owner: string;
  intended_use: string;
  features: CardFeature[];
  output: { scores: string; labels?: string[]; thresholds: Record<string, number> };
}

export interface CardView { model: string; version: string; scope: 'model' | 'version'; card: ModelCard; updated_at: string; updated_by: string | null }
