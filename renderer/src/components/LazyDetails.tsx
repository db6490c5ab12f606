import { useState, type ReactNode } from 'react';

/**
 * A <details> whose content mounts only once it is opened: panels that call the API (cards, a
 * model without a card answers 404) do so when the admin looks, not for every model on the page.
 */
export function LazyDetails({ summary, children }: { summary: string; children: () => ReactNode }) {
  const [opened, setOpened] = useState(false);
  return (
    <details onToggle={(e) => { if ((e.currentTarget as HTMLDetailsElement).open) setOpened(true); }}>
      <summary>{summary}</summary>
      {opened && children()}
    </details>
  );
}
