/** The parts every nexo response has: the echoed header, and Response { Result, ErrorCondition, AdditionalResponse }. */
import type { Json, RequestHeader } from './fields.js';

export type ResultType = 'Success' | 'Failure' | 'Partial';

/** nexo ErrorCondition values, as they are spelled on the wire. */
export type ErrorCondition =
  | 'Aborted'
  | 'Busy'
  | 'Cancel'
  | 'DeviceOut'
  | 'InProgress'
  | 'InsertedCard'
  | 'InvalidCard'
  | 'LoggedOut'
  | 'MessageFormat'
  | 'NotAllowed'
  | 'NotFound'
  | 'PaymentRestriction'
  | 'Refusal'
  | 'UnavailableDevice'
  | 'UnavailableService'
  | 'UnreachableHost'
  | 'WrongPIN';

export interface NexoResult {
  Result: ResultType;
  ErrorCondition?: ErrorCondition;
  AdditionalResponse?: string;
}

/** AdditionalResponse as nexo clients read it: URL-encoded key=value pairs. */
export function additional(pairs: Record<string, string | number | undefined>): string | undefined {
  const entries = Object.entries(pairs).filter((e): e is [string, string | number] => e[1] !== undefined);
  if (entries.length === 0) return undefined;
  return new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString();
}

export function success(pairs: Record<string, string | number | undefined> = {}): NexoResult {
  const text = additional(pairs);
  return { Result: 'Success', ...(text ? { AdditionalResponse: text } : {}) };
}

export function failure(condition: ErrorCondition, pairs: Record<string, string | number | undefined>): NexoResult {
  const text = additional(pairs);
  return { Result: 'Failure', ErrorCondition: condition, ...(text ? { AdditionalResponse: text } : {}) };
}

/** The request's header echoed as a response, from this POI. */
export function responseHeader(header: Partial<RequestHeader>, poiId: string): Json {
  return {
    ProtocolVersion: header.ProtocolVersion ?? '3.0',
    MessageClass: header.MessageClass ?? 'Service',
    MessageCategory: header.MessageCategory ?? 'Event',
    MessageType: 'Response',
    ...(header.SaleID !== undefined ? { SaleID: header.SaleID } : {}),
    ...(header.ServiceID !== undefined ? { ServiceID: header.ServiceID } : {}),
    ...(header.DeviceID !== undefined ? { DeviceID: header.DeviceID } : {}),
    POIID: poiId,
  };
}
