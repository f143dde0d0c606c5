import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export interface ConfirmButtonProps {
  label: string;
  /** What the dialog asks, e.g. "Roll back api?". */
  title: string;
  /** What will happen: the preview shown before the change. */
  children?: ComponentChildren;
  /** A reason is asked for (and required when true). */
  reason: 'optional' | 'required';
  danger?: boolean;
  run: (reason: string) => Promise<unknown>;
}

/**
 * A button whose change happens only after a confirmation dialog (with the reason that goes into
 * the audit log). The dialog is modal, traps nothing it does not need: Escape or Cancel closes it,
 * the reason field has focus when it opens.
 */
export function ConfirmButton(props: ConfirmButtonProps) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (open) input.current?.focus();
  }, [open]);
  const close = () => {
    setOpen(false);
    setError(null);
    setReason('');
  };
  const confirm = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.run(reason.trim());
      close();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const id = `confirm-${props.label.toLowerCase().replace(/\W+/g, '-')}`;
  return html`
    <button type="button" class=${props.danger ? 'danger' : ''} data-action=${props.label.toLowerCase()} onClick=${() => setOpen(true)}>${props.label}</button>
    ${open &&
    html`<div class="backdrop" onKeyDown=${(e: KeyboardEvent) => e.key === 'Escape' && close()}>
      <form class="dialog" role="dialog" aria-modal="true" aria-labelledby=${`${id}-title`} onSubmit=${confirm}>
        <h2 id=${`${id}-title`}>${props.title}</h2>
        <div class="preview">${props.children}</div>
        <label for=${`${id}-reason`}>Reason${props.reason === 'required' ? '' : ' (optional)'}</label>
        <input id=${`${id}-reason`} ref=${input} value=${reason} required=${props.reason === 'required'} maxlength="2000" onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} />
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <div class="buttons">
          <button type="button" onClick=${close}>Cancel</button>
          <button type="submit" class=${props.danger ? 'danger' : 'primary'} disabled=${busy} data-confirm=${props.label.toLowerCase()}>${busy ? 'Working…' : `Confirm ${props.label.toLowerCase()}`}</button>
        </div>
      </form>
    </div>`}
  `;
}
