import { z } from 'zod';

/**
 * OIP v2 REST inference request ($inference_request in the KServe Open Inference Protocol).
 * Element values are checked later against the model's datatype in one tight loop, so the
 * schema only checks structure here: validating millions of numbers through zod would be slow.
 */
const parameters = z.record(z.string(), z.unknown());

export const inferInputSchema = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  datatype: z.string(),
  parameters: parameters.optional(),
  data: z.array(z.unknown()),
});

export const inferRequestSchema = z.object({
  id: z.string().optional(),
  parameters: parameters.optional(),
  inputs: z.array(inferInputSchema).min(1),
  outputs: z.array(z.object({ name: z.string().min(1), parameters: parameters.optional() })).optional(),
});

export type InferRequest = z.infer<typeof inferRequestSchema>;
export type InferInput = z.infer<typeof inferInputSchema>;
