import { useState, type FormEvent } from 'react';
import type { Api } from '../api.js';
import { applyServeScope, ServeScopeChoice, useServeScope } from '../components/ServeScope.js';
import { CopyButton, ErrorText, Status } from '../components/Status.js';
import { useLoad } from '../components/useLoad.js';
import { describeWebGpu, useWebGpuRecheck, type WebGpuInfo } from '../components/WebGpuStatus.js';

interface SystemInfo {
  data_dir: string;
  urls: string[];
  hardware: {
    cpu: { brand: string; physical_cores: number; logical_cores: number; flags: Record<string, boolean> | null };
    memory: { total_bytes: number };
    gpus: { model: string; vram_mb: number | null }[];
    os: { platform: string; distro: string; arch: string };
  };
  execution_plan: { provider: string; instances: number; intra_op_threads: number; reasons: string[] };
  webgpu: WebGpuInfo;
}

interface ModelView { name: string; active_version: string | null }

const STEPS = ['This computer', 'Network', 'First app key', 'Done'] as const;

/**
 * The first-run wizard: what the appliance found, where its data lives, who may reach it, and a
 * key for the first business app. Shown after the first sign-in until the admin finishes or skips
 * it (POST /api/setup/complete); every step uses the same admin API as the other pages.
 */
export function FirstRunWizard({ api, onDone }: { api: Api; onDone: (message: string | undefined) => void }) {
  const [step, setStep] = useState(0);
  const system = useLoad(() => api.get<SystemInfo>('/api/system'), [api]);
  useWebGpuRecheck(system.data?.webgpu, system.reload);
  const models = useLoad(() => api.get<{ models: ModelView[] }>('/api/models'), [api]);
  const serve = useServeScope(api);
  const [lan, setLan] = useState<boolean>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState<{ name: string; key: string; scope: string }>();

  const finish = async (applyChoices: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      // Marked done first: the desktop app's network switch restarts the server and reloads this page.
      await api.send('POST', '/api/setup/complete');
      const state = serve.state;
      const wanted = lan ?? state?.lanNext;
      const message = applyChoices && state && state.mode !== 'locked' && wanted !== undefined && wanted !== state.lanNext ? await applyServeScope(api, state, wanted) : undefined;
      onDone(message);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };

  return (
    <section className="wizard" aria-labelledby="wizard-title">
      <h1 id="wizard-title">Set up Inferbox</h1>
      <ol className="steps" aria-label="Steps">
        {STEPS.map((name, i) => <li key={name} aria-current={i === step ? 'step' : undefined}>{name}</li>)}
      </ol>
      <div className="card">
        {step === 0 && (
          <Status loading={system.loading} error={system.error} onRetry={() => void system.reload()}>
            {system.data && <ThisComputer info={system.data} models={models.data?.models} />}
          </Status>
        )}
        {step === 1 && (
          <Status loading={!serve.state} error={serve.error} onRetry={() => void serve.reload()}>
            {serve.state && (
              <>
                <h2>Who can reach it</h2>
                <ServeScopeChoice state={serve.state} value={lan ?? serve.state.lanNext} onChange={setLan} />
                <p className="muted">You can change this later in Settings{serve.state.mode === 'desktop' ? ' or from the tray icon' : ''}.</p>
              </>
            )}
          </Status>
        )}
        {step === 2 && <FirstKey api={api} models={models.data?.models ?? []} created={key} onCreated={setKey} urls={system.data?.urls ?? []} />}
        {step === 3 && (
          <>
            <h2>Ready</h2>
            <ul>
              <li>Data and keys stay in <code className="wrap">{system.data?.data_dir}</code>.</li>
              <li>Serving: {(lan ?? serve.state?.lanNext) ? 'the office network (HTTPS)' : 'this computer only'}.</li>
              <li>{key ? <>Key <strong>{key.name}</strong> created ({key.scope}).</> : 'No app key yet: create one on the API keys page when an app needs it.'}</li>
            </ul>
          </>
        )}
      </div>
      <div className="wizard-actions">
        {step > 0 && <button type="button" onClick={() => setStep(step - 1)} disabled={busy}>Back</button>}
        {step < STEPS.length - 1 && <button type="button" onClick={() => setStep(step + 1)}>Next</button>}
        {step === STEPS.length - 1 && <button type="button" onClick={() => void finish(true)} disabled={busy}>Finish</button>}
        <button type="button" className="link" onClick={() => void finish(false)} disabled={busy}>Skip setup</button>
      </div>
      <ErrorText error={error} />
    </section>
  );
}

function ThisComputer({ info, models }: { info: SystemInfo; models: ModelView[] | undefined }) {
  const { cpu, memory, gpus, os } = info.hardware;
  const flags = cpu.flags ? Object.entries(cpu.flags).filter(([, on]) => on).map(([flag]) => flag) : null;
  return (
    <>
      <h2>What Inferbox found</h2>
      <dl className="facts">
        <dt>Processor</dt><dd>{cpu.brand}: {cpu.physical_cores} cores ({cpu.logical_cores} threads){flags ? `, ${flags.join(', ') || 'no AVX2/AVX-512/VNNI/AMX'}` : ''}</dd>
        <dt>Memory</dt><dd>{(memory.total_bytes / 2 ** 30).toFixed(1)} GiB</dd>
        <dt>Graphics</dt><dd>{gpus.length === 0 ? 'none found' : gpus.map((g) => `${g.model}${g.vram_mb ? ` (${g.vram_mb} MB)` : ''}`).join(', ')}</dd>
        <dt>WebGPU</dt><dd data-testid="wizard-webgpu">{describeWebGpu(info.webgpu)}</dd>
        <dt>System</dt><dd>{os.distro || os.platform} ({os.arch})</dd>
        <dt>Models run on</dt><dd data-testid="wizard-provider">{info.execution_plan.provider.toUpperCase()}, {info.execution_plan.instances} workers × {info.execution_plan.intra_op_threads} threads</dd>
        <dt>Data location</dt><dd><code className="wrap" data-testid="wizard-data-dir">{info.data_dir}</code> <small className="muted">models, settings, keys (hashed), logs and the audit trail; nothing is sent anywhere else.</small></dd>
        <dt>Models</dt><dd>{models ? models.map((m) => m.name).join(', ') || 'none yet' : '…'}</dd>
      </dl>
    </>
  );
}

function FirstKey({ api, models, created, onCreated, urls }: { api: Api; models: ModelView[]; created: { name: string; key: string; scope: string } | undefined; onCreated: (key: { name: string; key: string; scope: string }) => void; urls: string[] }) {
  const [name, setName] = useState('business app');
  const [model, setModel] = useState('');
  const [error, setError] = useState<string>();
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    const scope = model ? `infer:${model}` : 'infer';
    try {
      const result = await api.send<{ key: string }>('POST', '/api/keys', { name, scopes: [scope] });
      onCreated({ name, key: result.key, scope });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  if (created) {
    const example = models[0]?.name ?? '<model>';
    // A LAN address when there is one: the app runs on another computer.
    const url = urls.find((u) => !/\/\/(127\.|localhost|\[::1\])/.test(u)) ?? urls[0] ?? 'https://<appliance>:8000';
    const tls = url.startsWith('https:') ? '--cacert inferbox.crt ' : '';
    return (
      <div role="status">
        <h2>Key created</h2>
        <p>Copy the key for <strong>{created.name}</strong> now: it is stored hashed and not shown again.</p>
        <code className="wrap" data-testid="wizard-key">{created.key}</code> <CopyButton text={created.key} />
        <p className="muted">The app sends it with every call, for example (with the key in INFERBOX_KEY{tls ? ' and the appliance certificate from Settings saved as inferbox.crt' : ''}):</p>
        <pre className="wrap">{`curl ${tls}-H "Authorization: Bearer $INFERBOX_KEY" ${url}/v2/models/${example}`}</pre>
      </div>
    );
  }
  return (
    <form onSubmit={(e) => void create(e)} aria-labelledby="first-key-title">
      <h2 id="first-key-title">A key for your first business app</h2>
      <p className="muted">Each app gets its own key, so one can be revoked without stopping the others. It can call models only, not administer the appliance.</p>
      <label>App name <input value={name} onChange={(e) => setName(e.target.value)} required /></label>
      <label>
        May call
        <select value={model} onChange={(e) => setModel(e.target.value)}>
          <option value="">every model</option>
          {models.map((m) => <option key={m.name} value={m.name}>only {m.name}</option>)}
        </select>
      </label>
      <button type="submit">Create key</button>
      <ErrorText error={error} />
      <p className="muted">Or press Next to skip: keys can be made later on the API keys page.</p>
    </form>
  );
}
