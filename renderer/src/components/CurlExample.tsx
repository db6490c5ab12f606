import { CopyButton } from './Status.js';

/** The command a business app's developer copies to make the same call. */
export function CurlExample({ command }: { command: string }) {
  return (
    <details>
      <summary>curl example</summary>
      <pre>{command}</pre>
      <CopyButton text={command} />
    </details>
  );
}
