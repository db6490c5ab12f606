import { z } from 'zod';

/**
 * OIP v2 REST inference request ($inference_request in the KServe Open Inference Protocol).
 * Element values are checked later against the model's datatype in one tight loop, so the
 * schema only checks structure here: validating millions of numbers through zod would be slow.
 */
/** An input carries `data`, or (binary extension) `parameters.binary_data_size` and its bytes after the JSON. */
export const inferInputSchema = z
  .object({
    name: z.string().min(1),
    shape: z.array(z.number().int().nonnegative()),
    datatype: z.string(),
    parameters: z.looseObject({ binary_data_size: z.number().int().nonnegative().optional() }).optional(),
    data: z.array(z.unknown()).optional(),
  })
  .refine((input) => (input.data === undefined) !== (input.parameters?.binary_data_size === undefined), {
    message: 'give either data or parameters.binary_data_size (binary extension), not both or neither',
  });

export const inferRequestSchema = z.object({
  id: z.string().optional(),
  /** `timeout`: µs the request may wait in the queue (Triton's request parameter); it can only shorten the model's limit. */
  parameters: z.looseObject({ binary_data_output: z.boolean().optional(), timeout: z.number().int().positive().optional() }).optional(),
  inputs: z.array(inferInputSchema).min(1),
  outputs: z.array(z.object({ name: z.string().min(1), parameters: z.looseObject({ binary_data: z.boolean().optional() }).optional() })).optional(),
});

export type InferRequest = z.infer<typeof inferRequestSchema>;
export type InferInput = z.infer<typeof inferInputSchema>;
