import type { RouterContext } from '@koa/router';
import type { Principal } from '../auth/ApiKeyService.js';

export interface AppState {
  requestId: string;
  /** Set by the auth step for every non-public route. */
  principal?: Principal;
}

export type AppContext = RouterContext<AppState>;
