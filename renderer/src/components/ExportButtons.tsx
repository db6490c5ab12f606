import { useState } from 'react';
import type { Api } from '../api.js';
import { download } from './download.js';

/** Export a version for Triton (model repository .tar.gz) or KServe (InferenceService manifest). */
export function ExportButtons({ api, model, version, onError }: { api: Api; model: string; version: string; onError: (error: unknown) => void }) {
  const [busy, setBusy] = useState(false);
  const fetchExport = async (format: 'triton' | 'kserve') => {
    setBusy(true);
    try {
      const { blob, filename } = await api.getBlob(`/api/models/${encodeURIComponent(model)}/versions/${version}/export?format=${format}`);
      download(filename ?? `${model}-${version}-${format}`, blob, blob.type);
    } catch (error) {
      onError(error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="small" disabled={busy} onClick={() => void fetchExport('triton')} title="Triton model repository (.tar.gz): config.pbtxt + the served ONNX file">Export Triton</button>
      <button type="button" className="small" disabled={busy} onClick={() => void fetchExport('kserve')} title="KServe InferenceService manifest (JSON); fill in storageUri">Export KServe</button>
    </>
  );
}
