// The search form of the study browser. It owns the filter inputs and turns
// them into the filter part of a StudyQuery.

import type { StudyQuery } from '../api/api';
import { button, h } from '../ui/dom';
import { toDicomDate } from '../ui/format';

export type Filter = Pick<
  StudyQuery,
  'patientName' | 'patientID' | 'dateFrom' | 'dateTo' | 'modality' | 'accession' | 'description'
>;

export const emptyFilter: Filter = {
  patientName: '',
  patientID: '',
  dateFrom: '',
  dateTo: '',
  modality: '',
  accession: '',
  description: '',
};

export function isEmpty(f: Filter): boolean {
  return Object.values(f).every((v) => v === '');
}

const MODALITIES = ['CT', 'MR', 'CR', 'DX', 'US', 'NM', 'PT', 'XA', 'RF', 'MG', 'OT', 'SC', 'SR', 'SEG', 'RTSTRUCT'];

export interface FilterForm {
  element: HTMLElement;
  value(): Filter;
  clear(): void;
  focusSearch(): void;
}

interface FieldSpec {
  key: keyof Filter;
  label: string;
  placeholder: string;
  width: string;
  title: string;
}

const textFields: FieldSpec[] = [
  { key: 'patientName', label: 'Patient name', placeholder: 'e.g. Smith^J*', width: '14em', title: 'Wildcards: * any characters, ? one character. Case-insensitive; matches any name form.' },
  { key: 'patientID', label: 'Patient ID', placeholder: 'ID', width: '8em', title: 'Patient ID (wildcards allowed)' },
  { key: 'accession', label: 'Accession', placeholder: 'Accession', width: '8em', title: 'Accession number' },
  { key: 'description', label: 'Description', placeholder: 'Description', width: '12em', title: 'Words in the study description' },
];

/** Builds the filter bar; onChange fires (already debounced by the caller) on every edit. */
export function filterForm(onChange: (immediate: boolean) => void): FilterForm {
  const inputs = new Map<keyof Filter, HTMLInputElement>();
  const field = (spec: FieldSpec) => {
    const input = h('input', {
      type: 'search',
      class: 'input',
      id: `f-${spec.key}`,
      title: spec.title,
      attrs: { placeholder: spec.placeholder, autocomplete: 'off', spellcheck: 'false' },
      style: { width: spec.width },
    });
    inputs.set(spec.key, input);
    return h('label', { class: 'field' }, h('span', null, spec.label), input);
  };
  const dateInput = (key: 'dateFrom' | 'dateTo', label: string) => {
    const input = h('input', { type: 'date', class: 'input', id: `f-${key}`, title: `Study date ${label.toLowerCase()}` });
    inputs.set(key, input);
    return h('label', { class: 'field' }, h('span', null, label), input);
  };
  const modality = h('input', {
    type: 'search',
    class: 'input',
    id: 'f-modality',
    title: 'Modality in study (e.g. CT)',
    attrs: { placeholder: 'Any', list: 'modality-list', autocomplete: 'off' },
    style: { width: '6.5em' },
  });
  inputs.set('modality', modality);
  const datalist = h('datalist', { id: 'modality-list' }, ...MODALITIES.map((m) => h('option', { attrs: { value: m } })));
  const clearBtn = button('Clear', () => {
    clear();
    onChange(true);
  }, 'btn-small', 'Clear all filters');

  const [nameField, idField, accField, descField] = textFields.map(field);
  const element = h(
    'form',
    { class: 'filters', role: 'search', attrs: { 'aria-label': 'Study search' } },
    nameField,
    idField,
    dateInput('dateFrom', 'From'),
    dateInput('dateTo', 'To'),
    h('label', { class: 'field' }, h('span', null, 'Modality'), modality),
    datalist,
    accField,
    descField,
    clearBtn,
  );
  element.addEventListener('submit', (ev) => {
    ev.preventDefault();
    onChange(true);
  });
  element.addEventListener('input', (ev) => {
    const t = ev.target as HTMLInputElement;
    onChange(t.type === 'date');
  });

  function value(): Filter {
    const f = { ...emptyFilter };
    for (const [k, input] of inputs) {
      const v = input.value.trim();
      f[k] = k === 'dateFrom' || k === 'dateTo' ? toDicomDate(v) : k === 'modality' ? v.toUpperCase() : v;
    }
    return f;
  }
  function clear(): void {
    for (const input of inputs.values()) input.value = '';
  }
  return {
    element,
    value,
    clear,
    focusSearch: () => {
      const i = inputs.get('patientName')!;
      i.focus();
      i.select();
    },
  };
}
