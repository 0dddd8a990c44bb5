// The node list as the page knows it: one cached ListNodes() answer shared
// by the node manager, the query view and the "Send to…" picker. Anyone who
// changes nodes calls reloadNodes(); subscribers then see the new list.

import { net } from '../api/network';
import type { DicomNode, EchoResult, NodeList } from '../api/types';

type Listener = (l: NodeList) => void;

let list: NodeList = { nodes: [], path: '' };
let loaded: Promise<NodeList> | null = null;
const listeners = new Set<Listener>();
/** The last echo of each node (by name), kept for the status lights. */
export const lastEcho = new Map<string, EchoResult & { at: number }>();

export function subscribeNodes(l: Listener): () => void {
  listeners.add(l);
  if (loaded) void loaded.then(() => l(list));
  return () => listeners.delete(l);
}

/** Fetches ListNodes() again and tells every subscriber. */
export function reloadNodes(): Promise<NodeList> {
  loaded = net.listNodes().then((l) => {
    list = { ...l, nodes: l.nodes ?? [] };
    for (const fn of listeners) fn(list);
    return list;
  });
  return loaded;
}

/** The list, loading it the first time. */
export function nodes(): Promise<NodeList> {
  return loaded ?? reloadNodes();
}

export function nodeByName(name: string): DicomNode | undefined {
  return list.nodes.find((n) => n.name === name);
}
