import { createHash } from 'node:crypto';

/**
 * KServe's InferenceService name rule (pkg/apis/serving/v1beta1/inference_service_validation.go,
 * `IsvcNameFmt`): a DNS-1035 label, so it starts with a letter; model names here may start with a
 * digit and hold '_' and '.'.
 */
const KSERVE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * KServe names the predictor's Kubernetes objects and host names after the service with suffixes
 * such as `-predictor` and `-predictor-default`, and each must stay a 63-character DNS label:
 * 45 leaves room for the longest of them.
 */
const MAX_LENGTH = 45;

/**
 * The name a version is exported under: the InferenceService's `metadata.name`, the Triton
 * archive's top folder and the last segment of `storageUri`. A model name that already fits
 * KServe's rule keeps it: `<model>-v<version>`. Any other (a leading digit, '_' or '.', a '--',
 * too long) is mapped to `<letters, digits and single '-'>--<8 hex of the name's SHA-256>-v<version>`,
 * with `m-` in front when it would not start with a letter. Only mapped names contain `--` and the
 * hash is of the whole original name, so two models never share an exported name (`my_model` and
 * `my.model` differ in their hashes; neither can be taken by a model named `my-model`).
 */
export function serviceName(model: string, version: string): string {
  const suffix = `-v${version}`;
  const plain = `${model}${suffix}`;
  if (KSERVE_NAME.test(model) && !model.includes('--') && plain.length <= MAX_LENGTH) return plain;
  const tail = `--${createHash('sha256').update(model).digest('hex').slice(0, 8)}${suffix}`;
  const letters = model.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const base = /^[a-z]/.test(letters) ? letters : `m-${letters}`;
  return `${base.slice(0, MAX_LENGTH - tail.length).replace(/-+$/, '')}${tail}`;
}
