import { useCallback, useEffect, useState } from 'react';
import type { Api } from './api.js';
import { PageBoundary } from './components/PageBoundary.js';
import { Dashboard } from './pages/Dashboard.js';
import { Experiments } from './pages/Experiments.js';
import { FirstRunWizard } from './pages/FirstRunWizard.js';
import { Keys } from './pages/Keys.js';
import { Logs } from './pages/Logs.js';
import { Models } from './pages/Models.js';
import { Settings } from './pages/Settings.js';
import { SignIn } from './pages/SignIn.js';

const PAGES = { dashboard: 'Dashboard', models: 'Models', experiments: 'Experiments', keys: 'Keys', logs: 'Logs', settings: 'Settings' } as const;
type Page = keyof typeof PAGES;

/** Pages live in the URL hash (#/models), so reloads and links keep the page; the server only serves /. */
function pageFromHash(): Page {
  const name = window.location.hash.replace(/^#\/?/, '').split('/')[0] ?? '';
  return name in PAGES ? (name as Page) : 'dashboard';
}

export function App() {
  const [api, setApi] = useState<Api | null>(null);
  // After "Sign out" the desktop app's automatic sign-in must not sign straight back in.
  const [signedOut, setSignedOut] = useState(false);
  const [page, setPage] = useState<Page>(pageFromHash);
  useEffect(() => {
    const onHash = () => setPage(pageFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const [notice, setNotice] = useState<string>();
  // null until known; the wizard shows after sign-in while the server says setup is not done.
  const [setupDone, setSetupDone] = useState<boolean | null>(null);
  const [setupMessage, setSetupMessage] = useState<string>();
  useEffect(() => {
    if (!api) return;
    setSetupDone(null);
    // A failure here must not lock the admin out of the console: the pages show their own errors.
    api.get<{ completed_at: string | null }>('/api/setup').then((s) => setSetupDone(s.completed_at !== null), () => setSetupDone(true));
  }, [api]);
  const signIn = useCallback((signedIn: Api) => {
    signedIn.onUnauthorized = () => {
      setNotice('The key stopped working (revoked or expired): sign in again.');
      setSignedOut(true);
      setApi(null);
    };
    setNotice(undefined);
    setApi(signedIn);
  }, []);

  if (!api) return <SignIn onSignedIn={signIn} tryDesktopKey={!signedOut} notice={notice} />;
  if (setupDone === null) return <p aria-busy="true" className="muted">Loading…</p>;
  if (!setupDone) {
    return (
      <main className="layout-wizard">
        <PageBoundary>
          <FirstRunWizard api={api} onDone={(message) => { setSetupMessage(message); setSetupDone(true); window.location.hash = '#/dashboard'; }} />
        </PageBoundary>
      </main>
    );
  }
  return (
    <div className="layout">
      <header>
        <strong className="brand">Inferbox</strong>
        <nav aria-label="Main">
          {(Object.keys(PAGES) as Page[]).map((p) => (
            <a key={p} href={`#/${p}`} aria-current={p === page ? 'page' : undefined}>{PAGES[p]}</a>
          ))}
        </nav>
        <button type="button" onClick={() => { setSignedOut(true); setApi(null); }}>Sign out</button>
      </header>
      <main>
        {setupMessage && <p role="status" className="card notice">{setupMessage} <button type="button" className="small" onClick={() => setSetupMessage(undefined)}>Dismiss</button></p>}
        <PageBoundary key={page}>
          {page === 'dashboard' && <Dashboard api={api} />}
          {page === 'models' && <Models api={api} />}
          {page === 'experiments' && <Experiments api={api} />}
          {page === 'keys' && <Keys api={api} />}
          {page === 'logs' && <Logs api={api} />}
          {page === 'settings' && <Settings api={api} />}
        </PageBoundary>
      </main>
    </div>
  );
}
