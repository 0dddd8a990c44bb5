// The series strip of the selected study: a header with the study's actions
// and one card per series with its thumbnail (rendered by the backend).

import type { Series, Study } from '../api/api';
import { button, h } from '../ui/dom';
import { dicomDate, dicomTime, plural } from '../ui/format';
import { sendTo } from '../send/index';

export interface SeriesEvents {
  onOpen(study: Study): void;
  onDeleteStudy(study: Study): void;
  onDeleteSeries(study: Study, series: Series): void;
}

export interface SeriesStrip {
  element: HTMLElement;
  show(study: Study | null, series: Series[] | null, error?: string): void;
}

function card(study: Study, s: Series, ev: SeriesEvents): HTMLElement {
  const img = h('img', {
    class: 'thumb',
    attrs: { alt: `Series ${s.seriesNumber} ${s.seriesDescription}`.trim(), decoding: 'async', draggable: 'false' },
  });
  const frame = h('div', { class: 'thumb-frame' }, img);
  img.addEventListener('error', () => frame.classList.add('thumb-missing'));
  img.src = s.thumbnailURL;
  const open = h(
    'button',
    {
      type: 'button',
      class: 'series-open',
      title: 'Open in viewer',
      onclick: () => ev.onOpen(study),
    },
    frame,
    h(
      'div',
      { class: 'series-meta' },
      h('span', { class: 'series-line1' }, h('strong', null, s.modality || '—'), s.seriesNumber ? ` #${s.seriesNumber}` : ''),
      h('span', { class: 'series-desc', title: s.seriesDescription }, s.seriesDescription || 'No description'),
      h('span', { class: 'muted' }, plural(s.numberOfInstances, 'image'), s.bodyPart ? ` · ${s.bodyPart}` : ''),
    ),
  );
  const del = h(
    'button',
    {
      type: 'button',
      class: 'series-delete',
      title: 'Delete this series',
      dataset: { action: 'delete-series' },
      aria: { label: `Delete series ${s.seriesNumber}` },
      onclick: () => ev.onDeleteSeries(study, s),
    },
    '×',
  );
  const send = h(
    'button',
    {
      type: 'button',
      class: 'series-send',
      title: 'Send this series to a node…',
      dataset: { action: 'send-series' },
      aria: { label: `Send series ${s.seriesNumber}` },
      onclick: () => void sendTo({ seriesUIDs: [s.seriesInstanceUID], label: `Series ${s.seriesNumber} ${s.seriesDescription} (${plural(s.numberOfInstances, 'image')}) of ${study.patientName || 'a study'}`.replace(/\s+/g, ' ') }),
    },
    '⇪',
  );
  return h('div', { class: 'series-card', dataset: { uid: s.seriesInstanceUID } }, open, send, del);
}

export function seriesStrip(ev: SeriesEvents): SeriesStrip {
  const head = h('div', { class: 'strip-head' });
  const list = h('div', { class: 'series-list', role: 'list' });
  // The strip scrolls sideways: let a plain mouse wheel do that.
  list.addEventListener(
    'wheel',
    (ev) => {
      if (ev.deltaX !== 0 || ev.shiftKey || list.scrollWidth <= list.clientWidth) return;
      list.scrollLeft += ev.deltaY;
      ev.preventDefault();
    },
    { passive: false },
  );
  const element = h('section', { class: 'strip', aria: { label: 'Series of the selected study' } }, head, list);
  return {
    element,
    show(study, series, error) {
      element.classList.toggle('strip-empty', !study);
      if (!study) {
        head.replaceChildren(h('span', { class: 'muted' }, 'Select a study to see its series.'));
        list.replaceChildren();
        return;
      }
      const when = [dicomDate(study.studyDate), dicomTime(study.studyTime)].filter(Boolean).join(' ');
      head.replaceChildren(
        h(
          'div',
          { class: 'strip-title' },
          h('strong', { class: 'strip-patient' }, study.patientName || '(no name)'),
          h('span', { class: 'muted' }, [study.patientID, when, study.studyDescription].filter(Boolean).join(' · ')),
        ),
        h(
          'div',
          { class: 'strip-actions' },
          button('Open in viewer', () => ev.onOpen(study), 'btn-primary', 'Open in viewer (Enter)'),
          (() => {
            const label = [study.patientName || '(no name)', dicomDate(study.studyDate), study.studyDescription, plural(study.numberOfInstances, 'image')].filter(Boolean).join(', ');
            const b = button('Send to…', () => void sendTo({ studyUIDs: [study.studyInstanceUID], label }), '', 'Send this study to a DICOM node (Shift+S)');
            b.dataset.action = 'send-study';
            return b;
          })(),
          (() => {
            const b = button('Delete study…', () => ev.onDeleteStudy(study), 'btn-danger-outline', 'Delete this study (Delete)');
            b.dataset.action = 'delete-study';
            return b;
          })(),
        ),
      );
      if (error) {
        list.replaceChildren(h('p', { class: 'error-text' }, `Cannot load series: ${error}`));
        return;
      }
      if (!series) {
        list.replaceChildren(h('p', { class: 'muted' }, 'Loading series…'));
        return;
      }
      if (series.length === 0) {
        list.replaceChildren(h('p', { class: 'muted' }, 'This study has no series left.'));
        return;
      }
      list.replaceChildren(...series.map((s) => card(study, s, ev)));
    },
  };
}
