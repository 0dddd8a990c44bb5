// Modal dialogs built on <dialog>: confirmation and free content.

import { h } from './dom';

export interface ConfirmOptions {
  title: string;
  message: string | Node;
  confirmLabel: string;
  danger?: boolean;
}

/** Asks for confirmation; resolves true only when the confirm button is used. */
export function confirmDialog(o: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', class: 'btn', dataset: { action: 'cancel' } }, 'Cancel');
    const ok = h(
      'button',
      { type: 'button', class: o.danger ? 'btn btn-danger' : 'btn btn-primary', dataset: { action: 'confirm' } },
      o.confirmLabel,
    );
    const dlg = h(
      'dialog',
      { class: 'dialog', aria: { labelledby: 'dlg-title' } },
      h('h2', { id: 'dlg-title' }, o.title),
      h('div', { class: 'dialog-body' }, o.message),
      h('div', { class: 'dialog-actions' }, cancel, ok),
    );
    let result = false;
    cancel.addEventListener('click', () => dlg.close());
    ok.addEventListener('click', () => {
      result = true;
      dlg.close();
    });
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(result);
    });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

/** Shows arbitrary content in a modal with a Close button; resolves when closed. */
export function infoDialog(title: string, body: Node, onOpen?: (dlg: HTMLDialogElement) => void): Promise<void> {
  return new Promise((resolve) => {
    const close = h('button', { type: 'button', class: 'btn' }, 'Close');
    const dlg = h(
      'dialog',
      { class: 'dialog' },
      h('h2', null, title),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'dialog-actions' }, close),
    );
    close.addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve();
    });
    document.body.append(dlg);
    dlg.showModal();
    if (onOpen) onOpen(dlg);
    else close.focus();
  });
}
