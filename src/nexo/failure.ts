/**
 * The nexo Failure answer the transport gives to input it cannot hand over (not JSON, too large, a bad seal, a plain
 * request where plain is not allowed, a wrong path): `Response { Result: Failure, ErrorCondition,
 * AdditionalResponse }` inside a SaleToPOIResponse whose MessageHeader echoes the request's when it can be read.
 */

import { type ErrorCondition, failure } from './messages/response.js';

/** The nexo ErrorConditions the terminal answers with (one list, in messages/response.ts). */
export type NexoErrorCondition = ErrorCondition;

/** Header fields echoed from the request; MessageType becomes Response. */
const ECHOED = ['ProtocolVersion', 'MessageClass', 'MessageCategory', 'SaleID', 'ServiceID', 'DeviceID', 'POIID'];
const CATEGORY = /^[A-Za-z]{1,40}$/;
const MAX_ECHOED_CHARS = 64;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The readable fields of a request's MessageHeader (short strings only: nothing large or odd is echoed). */
export function echoedHeader(request: unknown): Record<string, string> {
  const body = isRecord(request) ? request['SaleToPOIRequest'] : undefined;
  const header = isRecord(body) ? body['MessageHeader'] : undefined;
  const echoed: Record<string, string> = {};
  if (!isRecord(header)) return echoed;
  for (const name of ECHOED) {
    const value = header[name];
    if (typeof value === 'string' && value.length <= MAX_ECHOED_CHARS) echoed[name] = value;
  }
  return echoed;
}

/**
 * A Failure SaleToPOIResponse. With a readable MessageCategory the Response sits in `<Category>Response` as the
 * client expects (e.g. PaymentResponse); without one, directly in the SaleToPOIResponse.
 * `additional` becomes AdditionalResponse as URL-encoded key=value pairs, as nexo clients parse it.
 */
export function nexoFailure(
  request: unknown,
  condition: NexoErrorCondition,
  additional: Record<string, string>,
): { SaleToPOIResponse: Record<string, unknown> } {
  const header: Record<string, string> = { ...echoedHeader(request), MessageType: 'Response' };
  const response = failure(condition, additional);
  const category = header['MessageCategory'];
  const body =
    category !== undefined && CATEGORY.test(category)
      ? { [`${category}Response`]: { Response: response } }
      : { Response: response };
  return { SaleToPOIResponse: { MessageHeader: header, ...body } };
}
