// The study table: sortable columns (sorting happens in the store through
// StudyQuery.sort/desc), one row per study, a single selection.

import type { Study, StudySort } from '../api/api';
import { h } from '../ui/dom';
import { dicomDate } from '../ui/format';

interface Column {
  key: string;
  label: string;
  sort?: StudySort;
  cls?: string;
  cell(s: Study): string;
  title?(s: Study): string;
}

export const columns: Column[] = [
  { key: 'patientName', label: 'Patient name', sort: 'patientName', cell: (s) => s.patientName, title: (s) => s.patientName },
  { key: 'patientID', label: 'Patient ID', sort: 'patientID', cell: (s) => s.patientID },
  { key: 'birthDate', label: 'Birth date', cls: 'nowrap', cell: (s) => dicomDate(s.patientBirthDate) },
  { key: 'sex', label: 'Sex', cls: 'narrow', cell: (s) => s.patientSex },
  { key: 'studyDate', label: 'Study date', sort: 'studyDate', cls: 'nowrap', cell: (s) => dicomDate(s.studyDate) },
  { key: 'modalities', label: 'Modality', sort: 'modalities', cell: (s) => (s.modalities ?? []).join(', ') },
  {
    key: 'studyDescription',
    label: 'Description',
    sort: 'studyDescription',
    cell: (s) => s.studyDescription,
    title: (s) => s.studyDescription,
  },
  { key: 'accessionNumber', label: 'Accession', sort: 'accessionNumber', cell: (s) => s.accessionNumber },
  { key: 'numberOfSeries', label: 'Series', cls: 'num', cell: (s) => String(s.numberOfSeries) },
  { key: 'numberOfInstances', label: 'Images', sort: 'numberOfInstances', cls: 'num', cell: (s) => String(s.numberOfInstances) },
];

export interface StudyTable {
  element: HTMLTableElement;
  render(studies: Study[], selected: string | null): void;
  select(uid: string | null, scroll?: boolean): void;
  setSort(sort: StudySort, desc: boolean): void;
}

export interface TableEvents {
  onSelect(uid: string): void;
  onOpen(uid: string): void;
  onSort(sort: StudySort): void;
}

export function studyTable(ev: TableEvents): StudyTable {
  const headButtons = new Map<StudySort, HTMLTableCellElement>();
  const thead = h(
    'thead',
    null,
    h(
      'tr',
      null,
      ...columns.map((c) => {
        const th = h('th', { class: `c-${c.key} ${c.cls ?? ''}`, attrs: { scope: 'col' } });
        if (c.sort) {
          const sort = c.sort;
          th.append(h('button', { type: 'button', class: 'sort-btn', title: `Sort by ${c.label.toLowerCase()}`, onclick: () => ev.onSort(sort) }, c.label));
          headButtons.set(sort, th);
        } else th.textContent = c.label;
        return th;
      }),
    ),
  );
  const tbody = h('tbody');
  const element = h('table', { class: 'study-table', attrs: { 'aria-label': 'Studies' } }, thead, tbody);
  let rows = new Map<string, HTMLTableRowElement>();

  tbody.addEventListener('click', (e) => {
    const tr = (e.target as HTMLElement).closest('tr');
    if (tr?.dataset.uid) ev.onSelect(tr.dataset.uid);
  });
  tbody.addEventListener('dblclick', (e) => {
    const tr = (e.target as HTMLElement).closest('tr');
    if (tr?.dataset.uid) ev.onOpen(tr.dataset.uid);
  });

  function select(uid: string | null, scroll = true): void {
    for (const [u, tr] of rows) {
      const on = u === uid;
      tr.classList.toggle('selected', on);
      tr.setAttribute('aria-selected', String(on));
      if (on && scroll) tr.scrollIntoView({ block: 'nearest' });
    }
  }

  return {
    element,
    render(studies, selected) {
      rows = new Map();
      tbody.replaceChildren(
        ...studies.map((s) => {
          const tr = h(
            'tr',
            { dataset: { uid: s.studyInstanceUID }, attrs: { 'aria-selected': 'false' } },
            ...columns.map((c) => h('td', { class: `c-${c.key} ${c.cls ?? ''}`, title: c.title?.(s) }, c.cell(s))),
          );
          rows.set(s.studyInstanceUID, tr);
          return tr;
        }),
      );
      select(selected, false); // a live refresh must not scroll the table away from the reader
    },
    select,
    setSort(sort, desc) {
      for (const [k, th] of headButtons) {
        if (k === sort) th.setAttribute('aria-sort', desc ? 'descending' : 'ascending');
        else th.removeAttribute('aria-sort');
      }
    },
  };
}
