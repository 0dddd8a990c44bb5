// Typed wrappers for the network part of the App API (nodes, echo, C-FIND,
// retrieve, send, incoming associations). Like api.ts: no logic, each
// wrapper names the Go method and its argument order.

import { call } from './transport';
import type {
  AssociationActivity,
  DicomNode,
  EchoResult,
  FindRequest,
  NodeList,
  RetrieveRequest,
  SendRequest,
} from './types';

export const net = {
  listNodes: () => call<NodeList>('ListNodes'),
  saveNode: (oldName: string, node: DicomNode) => call<DicomNode>('SaveNode', oldName, node),
  deleteNode: (name: string) => call<null>('DeleteNode', name),
  echoNode: (name: string) => call<EchoResult>('EchoNode', name),
  echoAddress: (calledAE: string, host: string, port: number, timeoutSeconds: number) =>
    call<EchoResult>('EchoAddress', calledAE, host, port, timeoutSeconds),
  startFind: (req: FindRequest) => call<string>('StartFind', req),
  cancelFind: (queryID: string) => call<null>('CancelFind', queryID),
  retrieve: (req: RetrieveRequest) => call<string>('Retrieve', req),
  retryRetrieve: (jobID: string) => call<string>('RetryRetrieve', jobID),
  sendInstances: (req: SendRequest) => call<string>('SendInstances', req),
  retrySend: (jobID: string) => call<string>('RetrySend', jobID),
  incoming: () => call<AssociationActivity[] | null>('Incoming'),
};
