/** An InferenceService name is a DNS-1123 label: lower case, digits and '-', at most 63 characters. */
export function serviceName(model: string, version: string): string {
  const base = model.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
  return `${base.slice(0, 50)}-v${version}`.slice(0, 63);
}
