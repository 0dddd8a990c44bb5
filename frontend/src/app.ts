// Entry point: builds the shell, registers the feature views, wires global
// keys and drag and drop. Features live in their own folders (browser/,
// transfers/, settings/, nodes/, viewer/); this file only assembles them.

import './styles.css';
import { initShell, route } from './shell';
import { initViewer } from './viewer/index';

function start(): void {
  const main = document.getElementById('main')!;
  const nav = document.getElementById('nav')!;
  initViewer();
  initShell(main, nav);
  route();
}

start();
