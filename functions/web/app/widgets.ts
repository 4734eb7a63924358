// Small shared pieces: loading a resource, showing an error, copying text, confirming a removal.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.ts';

export interface Loaded<T> {
  data?: T;
  error?: Error;
  reload(): void;
}

/** Runs `load` when `key` changes (and on reload()); the newest answer wins. */
export function useLoad<T>(key: string, load: () => Promise<T>): Loaded<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: Error }>({ key: '' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState({ key });
    load().then(
      (data) => live && setState({ key, data }),
      (error: unknown) => live && setState({ key, error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      live = false;
    };
    // `load` is a fresh closure each render; `key` says when it asks for something else.
  }, [key, round]);
  const current = state.key === key ? state : { key };
  return { ...(current.data !== undefined ? { data: current.data } : {}), ...(current.error ? { error: current.error } : {}), reload: () => setRound((n) => n + 1) };
}

export function ErrorNote({ error }: { error?: Error | undefined }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.message}</p>`;
}

/** The loading / error / content switch of a view. */
export function Show<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (loaded.error) return html`<${ErrorNote} error=${loaded.error} />`;
  if (loaded.data === undefined) return html`<p aria-busy="true">Loading…</p>`;
  return children(loaded.data);
}

async function copyText(text: string, fallback: HTMLInputElement | null): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  // Plain-HTTP origins have no Clipboard API: select the text and use the older copy command.
  fallback?.select();
  if (!document.execCommand('copy')) throw new Error('copy refused by the browser');
}

/** A read-only field with the text and a Copy button that says whether it copied. */
export function CopyField({ label, text }: { label: string; text: string }) {
  const input = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState('');
  const id = `copy-${label.replace(/\W+/g, '-').toLowerCase()}`;
  const copy = () => copyText(text, input.current).then(() => setStatus('Copied'), (e: unknown) => setStatus(`Not copied: ${String(e)}`));
  return html`<div class="copy">
    <label for=${id}>${label}</label>
    <div class="copy-row">
      <input id=${id} ref=${input} readonly value=${text} onFocus=${(e: FocusEvent) => (e.target as HTMLInputElement).select()} />
      <button type="button" onClick=${copy}>Copy</button>
      <span class="status" role="status">${status}</span>
    </div>
  </div>`;
}

/** An inline confirmation that names what goes; focus moves to it and back. */
export function Confirm({ what, action, onConfirm, onCancel }: { what: ComponentChildren; action: string; onConfirm: () => void; onCancel: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.focus(), []);
  return html`<div class="confirm" role="alertdialog" aria-modal="false" aria-labelledby="confirm-text" tabindex="-1" ref=${box}
      onKeyDown=${(e: KeyboardEvent) => e.key === 'Escape' && onCancel()}>
    <p id="confirm-text">${what}</p>
    <button type="button" class="danger" onClick=${onConfirm}>${action}</button>
    <button type="button" onClick=${onCancel}>Cancel</button>
  </div>`;
}
