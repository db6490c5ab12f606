/** An API error in the server's OIP shape, with the HTTP status. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * The admin API with the signed-in key. The key lives only in this object (memory): nothing is
 * written to cookies or storage, so there is no CSRF surface and signing out (or closing the tab)
 * forgets it.
 */
export class Api {
  /** Called when the key stops working mid-session (revoked, expired): the app returns to sign-in. */
  onUnauthorized: (() => void) | undefined;

  constructor(private readonly key: string) {}

  private async call<T>(method: string, path: string, body?: unknown, raw?: BodyInit, contentType?: string): Promise<{ data: T; response: Response; text: string }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (contentType) headers['content-type'] = contentType;
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: body !== undefined ? JSON.stringify(body) : raw ?? null });
    } catch {
      throw new ApiError(0, 'The appliance did not answer: is it running, and is this the right address?');
    }
    const text = await response.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    if (response.status === 401) this.onUnauthorized?.();
    if (!response.ok) {
      const message = typeof data === 'object' && data !== null && 'error' in data ? String((data as { error: unknown }).error) : `HTTP ${response.status}`;
      throw new ApiError(response.status, message);
    }
    return { data: data as T, response, text };
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path).then((r) => r.data);
  }

  send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return this.call<T>(method, path, body).then((r) => r.data);
  }

  /** A download as text (JSON lines are not one JSON document). */
  getText(path: string): Promise<string> {
    return this.call<unknown>('GET', path).then((r) => r.text);
  }

  /** A binary download (an export archive), with the file name the server suggests. */
  async getBlob(path: string): Promise<{ blob: Blob; filename: string | null }> {
    const headers = { authorization: `Bearer ${this.key}` };
    let response: Response;
    try {
      response = await fetch(path, { headers });
    } catch {
      throw new ApiError(0, 'The appliance did not answer: is it running, and is this the right address?');
    }
    if (response.status === 401) this.onUnauthorized?.();
    if (!response.ok) {
      const text = await response.text();
      let message = `HTTP ${response.status}`;
      try { message = String((JSON.parse(text) as { error: unknown }).error ?? message); } catch { /* not JSON: keep the status */ }
      throw new ApiError(response.status, message);
    }
    const filename = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? null;
    return { blob: await response.blob(), filename };
  }

  /** A text body of the given type (a PEM certificate upload). */
  sendText<T>(method: 'POST' | 'PUT', path: string, text: string, contentType: string): Promise<T> {
    return this.call<T>(method, path, undefined, text, contentType).then((r) => r.data);
  }

  /** The full response too (headers such as Server-Timing). */
  post<T>(path: string, body: unknown): Promise<{ data: T; response: Response }> {
    return this.call<T>('POST', path, body);
  }

  /** A raw body (a FormData sets its own multipart content type; files go with their own type). */
  postRaw<T>(path: string, body: BodyInit, contentType?: string): Promise<T> {
    return this.call<T>('POST', path, undefined, body, contentType).then((r) => r.data);
  }

  /** A file the API serves (job results): fetched with the key, since a plain link cannot send it. */
  async download(path: string): Promise<Blob> {
    const response = await fetch(path, { headers: { authorization: `Bearer ${this.key}` } });
    if (!response.ok) throw new ApiError(response.status, `HTTP ${response.status}`);
    return response.blob();
  }

  /** Uploads bytes with progress (fetch cannot report upload progress; XMLHttpRequest can). */
  upload<T>(path: string, file: Blob, onProgress: (fraction: number) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', path);
      xhr.setRequestHeader('authorization', `Bearer ${this.key}`);
      xhr.setRequestHeader('content-type', 'application/octet-stream');
      xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
      xhr.onerror = () => reject(new ApiError(0, 'The upload was interrupted'));
      xhr.onload = () => {
        let data: unknown = null;
        try { data = JSON.parse(xhr.responseText); } catch { data = xhr.responseText; }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data as T);
        else reject(new ApiError(xhr.status, typeof data === 'object' && data && 'error' in data ? String((data as { error: unknown }).error) : `HTTP ${xhr.status}`));
      };
      xhr.send(file);
    });
  }
}
