// The study browser view: filter bar, study table, series strip, empty state,
// delete with confirmation, live refresh on `store` events and keyboard
// navigation. The store does the searching and sorting (ListStudies).

import { api, on, onReconnect, type Series, type Study, type StudyQuery, type StudySort } from '../api/api';
import { registerView, showView, currentView } from '../shell';
import { openViewer } from '../viewer/index';
import { startImport } from '../import/dialog';
import { button, debounce, errorText, h, isTyping } from '../ui/dom';
import { confirmDialog } from '../ui/dialog';
import { dicomDate, plural } from '../ui/format';
import { toast } from '../ui/toast';
import { filterForm, isEmpty } from './filters';
import { studyTable } from './table';
import { seriesStrip } from './series';

const PAGE = 500;

export interface Browser {
  /** Focuses the patient-name search (the "/" shortcut). */
  focusSearch(): void;
}

export function initBrowser(): Browser {
  let sort: StudySort = 'studyDate';
  let desc = true;
  let limit = PAGE;
  let studies: Study[] = [];
  let selected: string | null = null;
  let loadSeq = 0;
  let seriesSeq = 0;
  let everLoaded = false;

  const filters = filterForm((immediate) => {
    limit = PAGE;
    if (immediate) void reload();
    else reloadSoon();
  });
  const count = h('span', { class: 'count', aria: { live: 'polite' } });
  const importBtn = button('Import…', () => void startImport(), 'btn-primary', 'Import DICOM files, folders, DICOMDIR or .zip');
  importBtn.id = 'import-btn';
  const toolbar = h('div', { class: 'toolbar' }, filters.element, h('div', { class: 'toolbar-right' }, count, importBtn));

  const table = studyTable({
    onSelect: (uid) => select(uid),
    onOpen: (uid) => open(uid),
    onSort: (s) => {
      if (s === sort) desc = !desc;
      else {
        sort = s;
        desc = s === 'studyDate' || s === 'numberOfInstances';
      }
      void reload();
    },
  });
  table.setSort(sort, desc);
  const more = button('Show more', () => {
    limit += PAGE;
    void reload();
  }, 'btn-small');
  const moreRow = h('div', { class: 'more-row', hidden: true }, more);
  const empty = h('div', { class: 'empty-state', hidden: true });
  const tableWrap = h('div', { class: 'table-wrap', tabIndex: -1 }, table.element, moreRow, empty);

  const strip = seriesStrip({
    onOpen: (s) => openViewer(s.studyInstanceUID),
    onDeleteStudy: (s) => void deleteStudy(s),
    onDeleteSeries: (st, se) => void deleteSeries(st, se),
  });

  const element = h('section', { class: 'browser' }, toolbar, tableWrap, strip.element);

  function query(): StudyQuery {
    return { ...filters.value(), sort, desc, limit, offset: 0 };
  }

  function renderEmpty(): void {
    const filtered = !isEmpty(filters.value());
    empty.hidden = studies.length > 0;
    table.element.hidden = studies.length === 0;
    strip.element.hidden = studies.length === 0;
    if (studies.length > 0) return;
    if (filtered) {
      empty.replaceChildren(
        h('h2', null, 'No studies match'),
        h('p', null, 'Nothing in the local store matches these filters. Patient names take * and ? wildcards.'),
        button('Clear filters', () => {
          filters.clear();
          void reload();
        }),
      );
      return;
    }
    empty.replaceChildren(
      h('div', { class: 'empty-icon', aria: { hidden: 'true' } }),
      h('h2', null, 'No studies yet'),
      h('p', null, 'Bring DICOM images into Lightbox in any of these ways:'),
      h(
        'ul',
        { class: 'empty-list' },
        h('li', null, h('strong', null, 'Drag and drop'), ' files or folders anywhere onto this window.'),
        h('li', null, h('strong', null, 'Import…'), ' a folder, DICOMDIR set or .zip archive: ', button('Import…', () => void startImport(), 'btn-primary btn-small')),
        h('li', null, 'From a terminal: ', h('code', null, 'lightbox import PATH…')),
      ),
    );
  }

  async function reload(): Promise<void> {
    const seq = ++loadSeq;
    const q = query();
    table.setSort(sort, desc);
    try {
      const list = (await api.listStudies(q)) ?? [];
      if (seq !== loadSeq) return;
      everLoaded = true;
      const same = JSON.stringify(list) === JSON.stringify(studies);
      studies = list;
      moreRow.hidden = list.length < q.limit;
      count.textContent = list.length >= q.limit ? `first ${plural(list.length, 'study', 'studies')}` : plural(list.length, 'study', 'studies');
      if (selected && !studies.some((s) => s.studyInstanceUID === selected)) selected = null;
      if (!same) table.render(studies, selected);
      renderEmpty();
      void loadSeries();
    } catch (e) {
      if (seq !== loadSeq) return;
      count.textContent = '';
      if (!everLoaded) {
        empty.hidden = false;
        table.element.hidden = true;
        empty.replaceChildren(h('h2', null, 'Cannot load studies'), h('p', { class: 'error-text' }, errorText(e)), button('Retry', () => void reload()));
      } else toast(`Cannot refresh studies: ${errorText(e)}`, 'error');
    }
  }
  const reloadSoon = debounce(() => void reload(), 250);
  const refreshOnStore = debounce(() => void reload(), 400);

  let shownKey = '';
  function showStrip(study: Study | null, series: Series[] | null, error?: string): void {
    // Re-render only on change, so live refreshes do not make thumbnails flicker.
    const key = JSON.stringify([study, series, error]);
    if (key === shownKey) return;
    shownKey = key;
    strip.show(study, series, error);
  }

  async function loadSeries(): Promise<void> {
    const seq = ++seriesSeq;
    const study = studies.find((s) => s.studyInstanceUID === selected) ?? null;
    if (!study) {
      showStrip(null, null);
      return;
    }
    if (strip.element.dataset.study !== study.studyInstanceUID) showStrip(study, null);
    strip.element.dataset.study = study.studyInstanceUID;
    try {
      const series = (await api.listSeries(study.studyInstanceUID)) ?? [];
      if (seq === seriesSeq) showStrip(study, series);
    } catch (e) {
      if (seq === seriesSeq) showStrip(study, [], errorText(e));
    }
  }

  function select(uid: string | null): void {
    if (uid === selected) return;
    selected = uid;
    table.select(uid);
    if (!uid) delete strip.element.dataset.study;
    void loadSeries();
  }

  function move(delta: number): void {
    if (studies.length === 0) return;
    const i = studies.findIndex((s) => s.studyInstanceUID === selected);
    const n = i < 0 ? (delta > 0 ? 0 : studies.length - 1) : Math.max(0, Math.min(studies.length - 1, i + delta));
    select(studies[n].studyInstanceUID);
  }

  function open(uid: string | null): void {
    if (uid) openViewer(uid);
  }

  function describe(s: Study): string {
    return [s.patientName || '(no name)', dicomDate(s.studyDate), s.studyDescription].filter(Boolean).join(', ');
  }

  async function deleteStudy(s: Study): Promise<void> {
    const ok = await confirmDialog({
      title: 'Delete study?',
      message: h(
        'div',
        null,
        h('p', null, h('strong', null, describe(s))),
        h('p', null, `This removes ${plural(s.numberOfSeries, 'series', 'series')} and ${plural(s.numberOfInstances, 'image')} with their files from this workstation. It cannot be undone.`),
      ),
      confirmLabel: 'Delete study',
      danger: true,
    });
    if (!ok) return;
    const i = studies.findIndex((x) => x.studyInstanceUID === s.studyInstanceUID);
    try {
      await api.deleteStudy(s.studyInstanceUID);
    } catch (e) {
      toast(`Cannot delete the study: ${errorText(e)}`, 'error');
      return;
    }
    studies = studies.filter((x) => x.studyInstanceUID !== s.studyInstanceUID);
    if (selected === s.studyInstanceUID) selected = studies[Math.min(i, studies.length - 1)]?.studyInstanceUID ?? null;
    table.render(studies, selected);
    count.textContent = plural(studies.length, 'study', 'studies');
    renderEmpty();
    void loadSeries();
    toast(`Deleted study: ${describe(s)}`, 'ok');
  }

  async function deleteSeries(st: Study, se: Series): Promise<void> {
    const ok = await confirmDialog({
      title: 'Delete series?',
      message: h(
        'div',
        null,
        h('p', null, h('strong', null, `${se.modality} #${se.seriesNumber} ${se.seriesDescription}`.trim())),
        h('p', null, `of ${describe(st)}. This removes ${plural(se.numberOfInstances, 'image')} with their files. It cannot be undone.`),
      ),
      confirmLabel: 'Delete series',
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteSeries(se.seriesInstanceUID);
    } catch (e) {
      toast(`Cannot delete the series: ${errorText(e)}`, 'error');
      return;
    }
    toast(`Deleted series ${se.seriesNumber} ${se.seriesDescription}`.trim(), 'ok');
    await reload();
  }

  function keydown(ev: KeyboardEvent): boolean {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return false;
    const typing = isTyping(ev);
    const inSearchText = typing && ev.target instanceof HTMLInputElement && ev.target.type === 'search';
    if (typing && !(inSearchText && (ev.key === 'ArrowDown' || ev.key === 'ArrowUp'))) {
      if (ev.key === 'Escape' && ev.target instanceof HTMLElement) {
        ev.target.blur();
        return true;
      }
      return false;
    }
    const cur = studies.find((s) => s.studyInstanceUID === selected);
    switch (ev.key) {
      case 'ArrowDown':
        move(1);
        return true;
      case 'ArrowUp':
        move(-1);
        return true;
      case 'PageDown':
        move(10);
        return true;
      case 'PageUp':
        move(-10);
        return true;
      case 'Home':
        move(-studies.length);
        return true;
      case 'End':
        move(studies.length);
        return true;
      case 'Enter':
        if (!cur || (ev.target instanceof HTMLButtonElement)) return false;
        open(cur.studyInstanceUID);
        return true;
      case 'Delete':
        if (!cur) return false;
        void deleteStudy(cur);
        return true;
      case 'Escape':
        select(null);
        return true;
    }
    return false;
  }

  on('store', () => refreshOnStore());
  onReconnect(() => refreshOnStore());

  registerView({
    id: 'studies',
    title: 'Studies',
    nav: true,
    key: 's',
    element,
    keydown,
    show: () => {
      if (!everLoaded) void reload();
    },
  });

  return {
    focusSearch() {
      if (currentView()?.id !== 'studies') showView('studies');
      filters.focusSearch();
    },
  };
}
