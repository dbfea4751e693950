/** Pieces of the console's forms: every input labelled, its error message next to it (filled from `details`). */
import type { T } from './page.ts';

export interface FieldOptions {
  type?: string;
  autocomplete?: string;
  required?: boolean;
  hint?: string;
  /** The path of the API's `details` this field shows (by default its name). */
  path?: string;
  extra?: string;
}

export function field(form: string, name: string, label: string, options: FieldOptions = {}): string {
  const id = `${form}-${name}`;
  const describedBy = [options.hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
  const attrs = [
    `id="${id}"`,
    `name="${name}"`,
    `type="${options.type ?? 'text'}"`,
    `data-path="${options.path ?? name}"`,
    `aria-describedby="${describedBy}"`,
    options.autocomplete ? `autocomplete="${options.autocomplete}"` : '',
    options.required ? 'required' : '',
    options.extra ?? '',
  ]
    .filter(Boolean)
    .join(' ');
  return `<div class="field"><label for="${id}">${label}</label>${options.hint ? `<p class="hint" id="${id}-hint">${options.hint}</p>` : ''}<input ${attrs}><p class="field-error" id="${id}-error"></p></div>`;
}

export function formError(): string {
  return '<p class="form-error" role="alert"></p>';
}

export function submit(label: string): string {
  return `<button type="submit">${label}</button>`;
}

export function loading(t: T): string {
  return `<p class="loading" data-loading>${t('common.loading')}</p>`;
}
