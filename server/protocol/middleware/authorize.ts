import { inferboxError } from '../../common/errors.js';
import { allows, type AccessRule } from '../../auth/scopes.js';
import type { ApiKeyService } from '../../auth/ApiKeyService.js';
import type { AppContext } from '../AppContext.js';

export function bearerToken(ctx: AppContext): string | undefined {
  const header = ctx.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : '';
}

/** 401 when the key is missing or not valid, 403 when it is valid but lacks the scope. */
export function authorize(ctx: AppContext, rule: AccessRule, keys: ApiKeyService): void {
  if (rule.kind === 'public') return;
  const principal = keys.authenticate(bearerToken(ctx));
  ctx.state.principal = principal;
  if (!allows(principal.scopes, rule)) {
    const need = rule.kind === 'admin' ? "the 'admin' scope" : `the 'infer' or 'infer:${(rule.kind === 'infer' && rule.model) || '<model>'}' scope`;
    throw inferboxError('IBX_ERR_FORBIDDEN', `this key ('${principal.name}') does not have ${need}`);
  }
}
