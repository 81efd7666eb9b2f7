/**
 * Reading a nexo request's JSON: typed look-ups that throw a NexoFormatError naming the path at fault (answered as
 * Failure MessageFormat), and the header every request carries. Values are never copied into errors: a register
 * that put a card number in a wrong field must not see it journaled.
 */
import { maskCardNumbers } from '../../util/card-schemes.js';

export type Json = Record<string, unknown>;

export class NexoFormatError extends Error {
  override readonly name = 'NexoFormatError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(parent: Json, key: string, path: string): Json {
  const value = parent[key];
  if (!isObject(value)) throw new NexoFormatError(`${path}.${key}`, 'expected an object');
  return value;
}

export function optionalObjectAt(parent: Json, key: string, path: string): Json | undefined {
  return parent[key] === undefined ? undefined : objectAt(parent, key, path);
}

/** Identifiers and codes: printable, at most `max` characters. */
const IDENTIFIER = /^[\x21-\x7e][\x20-\x7e]*$/;

export function stringAt(parent: Json, key: string, path: string, max = 64): string {
  const value = parent[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > max || !IDENTIFIER.test(value))
    throw new NexoFormatError(`${path}.${key}`, `expected a text of 1 to ${max} printable characters`);
  // Every text read here may be echoed or journaled: a card number is refused, never carried along.
  if (maskCardNumbers(value, true) !== value) throw new NexoFormatError(`${path}.${key}`, 'looks like a card number');
  return value;
}

export function optionalStringAt(parent: Json, key: string, path: string, max = 64): string | undefined {
  return parent[key] === undefined ? undefined : stringAt(parent, key, path, max);
}

export interface RequestHeader {
  MessageClass: string;
  MessageCategory: string;
  ProtocolVersion?: string;
  SaleID: string;
  ServiceID: string;
  POIID?: string;
  DeviceID?: string;
}

/** The request's header; SaleID and ServiceID identify the request (a repeat of both is the same request). */
export function readHeader(request: Json): RequestHeader {
  const header = objectAt(request, 'MessageHeader', 'SaleToPOIRequest');
  const path = 'MessageHeader';
  if (header['MessageType'] !== 'Request') throw new NexoFormatError(`${path}.MessageType`, 'expected "Request"');
  const protocol = optionalStringAt(header, 'ProtocolVersion', path, 8);
  const poi = optionalStringAt(header, 'POIID', path);
  const device = optionalStringAt(header, 'DeviceID', path);
  return {
    MessageClass: stringAt(header, 'MessageClass', path, 16),
    MessageCategory: stringAt(header, 'MessageCategory', path, 32),
    SaleID: stringAt(header, 'SaleID', path),
    ServiceID: stringAt(header, 'ServiceID', path, 32),
    ...(protocol !== undefined ? { ProtocolVersion: protocol } : {}),
    ...(poi !== undefined ? { POIID: poi } : {}),
    ...(device !== undefined ? { DeviceID: device } : {}),
  };
}

/** The header as far as it can be read, for answering a request whose header is itself at fault. */
export function looseHeader(request: unknown): Partial<RequestHeader> {
  const header = isObject(request) && isObject(request['MessageHeader']) ? request['MessageHeader'] : {};
  const loose: Partial<RequestHeader> = {};
  for (const key of [
    'MessageClass',
    'MessageCategory',
    'ProtocolVersion',
    'SaleID',
    'ServiceID',
    'DeviceID',
  ] as const) {
    const value = header[key];
    if (typeof value === 'string' && value.length <= 64 && IDENTIFIER.test(value))
      loose[key] = maskCardNumbers(value, true);
  }
  return loose;
}

/** The request id the command service keys repeats on: a repeat of SaleID + ServiceID is never a second charge. */
export function requestIdOf(saleId: string, serviceId: string): string {
  return `nexo:${saleId}:${serviceId}`;
}
