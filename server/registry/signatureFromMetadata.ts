import { oipTypeOf, type TensorSpec } from '../common/datatypes.js';
import { inferboxError } from '../common/errors.js';
import type { RawTensorMetadata } from '../runtime/workerProtocol.js';

/** ORT metadata → OIP tensor specs: symbolic or unknown dimensions become -1 (OIP's "dynamic"). */
export function signatureFromMetadata(metadata: RawTensorMetadata[], role: 'input' | 'output'): TensorSpec[] {
  return metadata.map((m) => {
    const datatype = oipTypeOf(m.type);
    if (!datatype) {
      throw inferboxError('IBX_ERR_MODEL_REJECTED', `${role} '${m.name}' has type ${m.type}, which the inference protocol cannot carry`);
    }
    return { name: m.name, datatype, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
  });
}
