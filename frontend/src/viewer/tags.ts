// The tag browser: every element of the instance shown in the active viewport
// (GET files/instance/<id>/tags), sequences as nested items, searchable by
// tag, keyword or value. Values whose charset decoding replaced bytes are
// flagged. Fetches only while the panel is visible.

import { files, type TagNode } from '../api/api';
import { parseImageId } from './meta';

export class TagBrowser {
  readonly element: HTMLElement;
  private search: HTMLInputElement;
  private table: HTMLElement;
  private title: HTMLElement;
  private id = -1;
  private nodes: TagNode[] = [];
  private seq = 0;

  constructor() {
    this.element = document.createElement('div');
    this.element.className = 'vw-panel vw-tags';
    const head = document.createElement('div');
    head.className = 'vw-panel-head';
    this.title = document.createElement('h3');
    this.title.textContent = 'Tags';
    this.search = document.createElement('input');
    this.search.type = 'search';
    this.search.placeholder = 'Search tag, keyword or value';
    this.search.className = 'vw-tag-search';
    this.search.addEventListener('input', () => this.render());
    head.append(this.title);
    this.table = document.createElement('div');
    this.table.className = 'vw-tag-table';
    this.element.append(head, this.search, this.table);
  }

  /** Shows the tags of an image's instance (if the panel is visible or force). */
  show(imageId: string | undefined, force = false): void {
    if (!imageId) return;
    const p = parseImageId(imageId);
    if (!p || p.id === this.id) return;
    if (!force && !this.element.isConnected) return;
    this.id = p.id;
    void this.fetch(p.id);
  }

  private async fetch(id: number): Promise<void> {
    const seq = ++this.seq;
    this.title.textContent = `Tags · instance ${id}`;
    this.table.textContent = 'Loading…';
    try {
      const resp = await fetch(files.tags(id), { credentials: 'same-origin' });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      const nodes = (await resp.json()) as TagNode[];
      if (seq !== this.seq) return;
      this.nodes = nodes ?? [];
      this.render();
    } catch (e) {
      if (seq !== this.seq) return;
      this.nodes = [];
      this.table.textContent = `Cannot load tags: ${e instanceof Error ? e.message : String(e)}`;
      this.id = -1;
    }
  }

  private render(): void {
    const q = this.search.value.trim().toLowerCase();
    const frag = document.createDocumentFragment();
    let count = 0;
    const match = (n: TagNode) =>
      !q || n.tag.toLowerCase().includes(q) || n.keyword.toLowerCase().includes(q) || n.value.toLowerCase().includes(q);
    const anyMatch = (n: TagNode): boolean => match(n) || (n.items ?? []).some((it) => it.some(anyMatch));
    const walk = (list: TagNode[], depth: number) => {
      for (const n of list) {
        if (!anyMatch(n)) continue;
        const row = document.createElement('div');
        row.className = 'vw-tag-row';
        row.style.paddingLeft = `${depth * 14 + 4}px`;
        if (n.substituted) row.classList.add('substituted');
        const t = document.createElement('span');
        t.className = 'vw-tag-tag';
        t.textContent = n.tag;
        const vr = document.createElement('span');
        vr.className = 'vw-tag-vr';
        vr.textContent = n.vr;
        const kw = document.createElement('span');
        kw.className = 'vw-tag-kw';
        kw.textContent = n.keyword || '(private/unknown)';
        const v = document.createElement('span');
        v.className = 'vw-tag-val';
        v.textContent = n.items ? `${n.items.length} item(s)` : n.value;
        v.title = n.value;
        row.append(t, vr, kw, v);
        if (n.substituted) {
          const s = document.createElement('span');
          s.className = 'vw-tag-subst';
          s.textContent = 'substituted';
          s.title = 'The character set decoder replaced bytes it could not decode';
          row.append(s);
        }
        frag.append(row);
        count++;
        (n.items ?? []).forEach((item, i) => {
          const ih = document.createElement('div');
          ih.className = 'vw-tag-item';
          ih.style.paddingLeft = `${(depth + 1) * 14 + 4}px`;
          ih.textContent = `Item ${i + 1}`;
          frag.append(ih);
          walk(item, depth + 1);
        });
      }
    };
    walk(this.nodes, 0);
    this.table.replaceChildren(frag);
    if (!count) this.table.textContent = q ? 'No match.' : 'No elements.';
  }
}
