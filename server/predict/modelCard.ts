import { z } from 'zod';

/**
 * A model card: what a business developer needs to call a model without knowing tensors — what it
 * is for and who owns it, its named features (types, allowed values, defaults) and how they map
 * into the input tensors, and how the outputs read as labels and scores.
 */

const text = (max: number) => z.string().max(max);

/** Where a feature goes: the input tensor, and for a tabular tensor [rows, columns] its column. */
const placement = {
  name: z.string().min(1).max(128),
  description: text(1000).optional(),
  input: z.string().min(1),
  /** Column in a [rows, columns] input; a one-hot category fills one column per value from here. */
  column: z.number().int().min(0).default(0),
};

/** How an image is turned into the model's input tensor (decoding and resizing by sharp). */
export const imageSpecSchema = z
  .object({
    width: z.number().int().min(1).max(8192),
    height: z.number().int().min(1).max(8192),
    /** Channel order the model was trained with; gray is one channel. */
    channels: z.enum(['rgb', 'bgr', 'gray']).default('rgb'),
    layout: z.enum(['nchw', 'nhwc']).default('nchw'),
    /**
     * stretch: to width × height exactly; cover: scale and crop the middle; pad: keep the aspect
     * ratio, fit inside, anchored top-left, the rest filled with `pad_value` (after normalization),
     * as PaddleOCR's classifiers expect.
     */
    resize: z.enum(['stretch', 'cover', 'pad']).default('stretch'),
    /** Each pixel: (value × scale − mean[c]) / std[c]; one entry per channel, or one for all. */
    scale: z.number().positive().default(1 / 255),
    mean: z.array(z.number()).min(1).max(3).default([0]),
    std: z.array(z.number().positive()).min(1).max(3).default([1]),
    pad_value: z.number().default(0),
  })
  .strict();

export const featureSchema = z.discriminatedUnion('type', [
  z.object({ ...placement, type: z.literal('number'), default: z.number().optional() }).strict(),
  z.object({ ...placement, type: z.literal('integer'), default: z.number().int().optional() }).strict(),
  z.object({ ...placement, type: z.literal('boolean'), default: z.boolean().optional() }).strict(),
  z
    .object({
      ...placement,
      type: z.literal('category'),
      values: z.array(z.string().min(1)).min(1).max(10_000),
      /** index: the value's position as a number; one_hot: a 0/1 column per value; string: the value itself (a BYTES input). */
      encoding: z.enum(['index', 'one_hot', 'string']).default('index'),
      default: z.string().optional(),
    })
    .strict(),
  z.object({ ...placement, type: z.literal('text'), max_length: z.number().int().min(1).default(10_000), default: z.string().optional() }).strict(),
  z.object({ ...placement, type: z.literal('image'), image: imageSpecSchema }).strict(),
]);

export const cardOutputSchema = z
  .object({
    /** The output whose values are the scores: [rows, labels], or [rows] / [rows, 1] (one score per row). */
    scores: z.string().min(1),
    /**
     * Class labels in the score columns' order. Two labels with one score per row: the score is the
     * second label's (a binary classifier's positive class). No labels: a regression, answered as values.
     */
    labels: z.array(z.string().min(1)).optional(),
    /** Decision thresholds per label, checked in the labels' order (see decidePrediction). */
    thresholds: z.record(z.string(), z.number().min(0).max(1)).default({}),
  })
  .strict();

export const modelCardSchema = z
  .object({
    description: text(5000).default(''),
    owner: text(200).default(''),
    intended_use: text(5000).default(''),
    features: z.array(featureSchema).min(1).max(10_000),
    output: cardOutputSchema,
  })
  .strict();

export type ModelCard = z.infer<typeof modelCardSchema>;
export type Feature = z.infer<typeof featureSchema>;
export type ImageSpec = z.infer<typeof imageSpecSchema>;
export type CardOutput = z.infer<typeof cardOutputSchema>;
