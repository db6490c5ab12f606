import { originOf } from './loopback.js';

/**
 * What to do with a navigation or a window the page asks for:
 * - `allow`: stay in the window (the appliance's own origin only);
 * - `open-external`: hand to the system browser (http, https, mailto: links in the console, docs);
 * - `deny`: everything else (file:, javascript:, data:, custom schemes: never passed to the OS,
 *   where a scheme handler could run a program).
 */
export type NavigationDecision = 'allow' | 'open-external' | 'deny';

const EXTERNAL_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

function external(url: string): NavigationDecision {
  try {
    return EXTERNAL_SCHEMES.has(new URL(url).protocol) ? 'open-external' : 'deny';
  } catch {
    return 'deny';
  }
}

/** `will-navigate` / `will-redirect`: the window stays on the server's origin. */
export function decideNavigation(targetUrl: string, serverOrigin: string | null): NavigationDecision {
  const target = originOf(targetUrl);
  if (serverOrigin && target && target === serverOrigin) return 'allow';
  return external(targetUrl);
}

/**
 * `setWindowOpenHandler`: the app never opens a second Electron window (a window without the
 * checks above); links with target=_blank go to the system browser, the console's too.
 */
export function decideWindowOpen(targetUrl: string): Exclude<NavigationDecision, 'allow'> {
  return external(targetUrl) === 'open-external' ? 'open-external' : 'deny';
}
