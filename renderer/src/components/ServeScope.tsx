import { useCallback, useEffect, useState } from 'react';
import type { Api } from '../api.js';

interface SettingsView {
  effective: { host: string; port: number };
  saved: { host?: string };
  defaults: { host: string };
  overridden: string[];
}

/**
 * Who can reach the appliance, and who decides it:
 * - 'desktop': the desktop app starts the server with its own --host (electron/desktopSettings.ts),
 *   so the switch goes through its bridge, which restarts the server on the new address;
 * - 'server': a headless server reads the saved `host` setting at start (applies after a restart);
 * - 'locked': a --host flag or INFERBOX_HOST sets it for this run: change it there.
 */
export interface ServeScopeState {
  mode: 'desktop' | 'server' | 'locked';
  /** What the running server does now. */
  lanNow: boolean;
  /** What the next start will do (differs from lanNow after a saved, not yet applied change). */
  lanNext: boolean;
  host: string;
  port: number;
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** Loads where the appliance serves and how it can be changed. */
export function useServeScope(api: Api) {
  const [state, setState] = useState<ServeScopeState>();
  const [error, setError] = useState<string>();
  const load = useCallback(async () => {
    try {
      const settings = await api.get<SettingsView>('/api/settings');
      const { host, port } = settings.effective;
      const desktopLan = (await window.inferboxDesktop?.getServeLan()) ?? null;
      if (desktopLan !== null) {
        setState({ mode: 'desktop', lanNow: !isLoopback(host), lanNext: desktopLan, host, port });
      } else {
        const next = settings.saved.host ?? settings.defaults.host;
        const locked = settings.overridden.includes('host');
        setState({ mode: locked ? 'locked' : 'server', lanNow: !isLoopback(host), lanNext: locked ? !isLoopback(host) : !isLoopback(next), host, port });
      }
      setError(undefined);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, [api]);
  useEffect(() => { void load(); }, [load]);
  return { state, error, reload: load };
}

/**
 * Applies a choice; returns what the admin should know. The desktop app restarts the server at
 * once (this page reloads on the new address); a headless server saves it for its next start.
 */
export async function applyServeScope(api: Api, state: ServeScopeState, lan: boolean): Promise<string> {
  if (state.mode === 'locked') throw new Error('The address is set by --host or INFERBOX_HOST for this run; change it there.');
  if (state.mode === 'desktop') {
    if (!(await window.inferboxDesktop?.setServeLan(lan))) throw new Error('The desktop app did not accept the change.');
    return 'Restarting the appliance on the new address; the console reloads by itself.';
  }
  await api.send('PUT', '/api/settings', { host: lan ? '0.0.0.0' : '127.0.0.1' });
  return lan
    ? 'Saved. Restart the appliance to serve the office network.'
    : 'Saved. Restart the appliance to serve this computer only; a console opened from another computer will no longer reach it.';
}

/** The two choices as radio buttons; `value` is the admin's pick (true = the office network). */
export function ServeScopeChoice({ state, value, onChange }: { state: ServeScopeState; value: boolean; onChange: (lan: boolean) => void }) {
  const locked = state.mode === 'locked';
  return (
    <fieldset className="choices" disabled={locked}>
      <legend>Who can reach this appliance</legend>
      <label className="choice">
        <input type="radio" name="serve-scope" checked={!value} onChange={() => onChange(false)} />
        <span>
          <strong>This computer only</strong>
          <small className="muted">Apps on this computer call http://127.0.0.1:{state.port}. Nothing on the network can reach it.</small>
        </span>
      </label>
      <label className="choice">
        <input type="radio" name="serve-scope" checked={value} onChange={() => onChange(true)} />
        <span>
          <strong>The office network (LAN)</strong>
          <small className="muted">Business apps on other computers call it over HTTPS with this appliance's certificate; every call needs an API key.</small>
        </span>
      </label>
      <p className="muted" data-testid="serve-scope-now">
        Now: {state.lanNow ? 'the office network' : 'this computer only'} ({state.host}:{state.port}).
        {state.lanNext !== state.lanNow && ` After the next restart: ${state.lanNext ? 'the office network' : 'this computer only'}.`}
        {locked && ' Set for this run by --host or INFERBOX_HOST: change it there.'}
      </p>
    </fieldset>
  );
}

/** The switch with its own Apply button (Settings page). */
export function ServeScopePanel({ api }: { api: Api }) {
  const { state, error, reload } = useServeScope(api);
  const [choice, setChoice] = useState<boolean>();
  const [message, setMessage] = useState<string>();
  const [applyError, setApplyError] = useState<string>();
  if (error) return <p role="alert" className="error">{error}</p>;
  if (!state) return <p aria-busy="true" className="muted">Loading…</p>;
  const value = choice ?? state.lanNext;
  const apply = async () => {
    setApplyError(undefined);
    try {
      setMessage(await applyServeScope(api, state, value));
      setChoice(undefined);
      await reload();
    } catch (e) {
      setApplyError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section className="card" aria-labelledby="serve-scope-title">
      <h2 id="serve-scope-title">Network</h2>
      <ServeScopeChoice state={state} value={value} onChange={setChoice} />
      {value && !state.lanNext && <p className="muted">Before switching, create a key for each business app (API keys page): apps on the LAN need one.</p>}
      <button type="button" disabled={state.mode === 'locked' || value === state.lanNext} onClick={() => void apply()}>Apply</button>
      {message && <p role="status">{message}</p>}
      {applyError && <p role="alert" className="error">{applyError}</p>}
    </section>
  );
}
