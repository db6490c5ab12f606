import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RuntimeTensor, TensorSpec } from '../common/datatypes.js';
import type { QuantizationRepository, SampleRow } from '../store/QuantizationRepository.js';

/** Decodes a validation sample (OIP v2 request inputs) against a signature; injected from the inference module. */
export type DecodeInputs = (inputs: unknown[], signature: { name: string; inputs: TensorSpec[] }) => Record<string, RuntimeTensor>;

/**
 * A model's stored samples (uploaded, or recorded live) that fit this version's signature, decoded;
 * the others are skipped and counted. Yields between samples: decoding large ones must not stall
 * the HTTP thread.
 */
export async function storedSamples(
  repository: Pick<QuantizationRepository, 'listSamples'>,
  decodeInputs: DecodeInputs,
  signature: { name: string; inputs: TensorSpec[] },
  limit: number,
): Promise<{ samples: Record<string, RuntimeTensor>[]; sources: Set<SampleRow['source']>; misfits: number }> {
  const samples: Record<string, RuntimeTensor>[] = [];
  const sources = new Set<SampleRow['source']>();
  let misfits = 0;
  for (const row of repository.listSamples(signature.name, limit)) {
    try {
      const feeds = decodeInputs(row.inputs, signature);
      if (Object.values(feeds).some((t) => t.dims.includes(0))) throw new Error('empty tensor');
      samples.push(feeds);
      sources.add(row.source);
    } catch {
      misfits += 1;
    }
    await nextTurn();
  }
  return { samples, sources, misfits };
}
