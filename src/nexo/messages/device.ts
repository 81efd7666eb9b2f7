/**
 * Display and Print from the register: the command service offers no way to put the register's text on the
 * terminal's display or printer (both belong to the transaction running on them), so both are answered Failure
 * UnavailableService, nexo's "service not implemented", with each device the request named.
 */
import { isObject, type Json } from './fields.js';
import { failure } from './response.js';

/** An enumeration value echoed back; anything else is not. */
function word(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z]{1,32}$/.test(value) ? value : undefined;
}

const REASON = { reason: 'not-supported', message: 'this terminal does not take display or print requests' };

export function displayResponse(body: Json | undefined): Json {
  const outputs = body && Array.isArray(body['DisplayOutput']) ? body['DisplayOutput'] : [{}];
  return {
    OutputResult: outputs.slice(0, 8).map((output: unknown) => {
      const o = isObject(output) ? output : {};
      return {
        Device: word(o['Device']) ?? 'CashierDisplay',
        InfoQualify: word(o['InfoQualify']) ?? 'Display',
        Response: failure('UnavailableService', REASON),
      };
    }),
  };
}

export function printResponse(body: Json | undefined): Json {
  const output = body && isObject(body['PrintOutput']) ? body['PrintOutput'] : {};
  const qualifier = word(output['DocumentQualifier']) ?? 'Document';
  return { DocumentQualifier: qualifier, Response: failure('UnavailableService', REASON) };
}
