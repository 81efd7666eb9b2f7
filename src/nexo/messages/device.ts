/**
 * Display and Print from the register: each output becomes a display or print command of the one command service
 * (refused while a transaction, a lock or start-up holds the devices), and each answer an OutputResult or a
 * PrintResponse. The terminal has one screen for cashier and customer; it has no input devices to display on.
 */
import type { NexoCommand, NexoCommandResult } from '../ports.js';
import { conditionOfRefusal } from './error-conditions.js';
import { isObject, type Json, NexoFormatError, objectAt } from './fields.js';
import { parseOutputContent } from './output-content.js';
import { failure, type NexoResult, success } from './response.js';

/** A register's outputs in one Display request: more is not one screen's worth. */
const MAX_OUTPUTS = 4;
const DISPLAYS = new Set(['CashierDisplay', 'CustomerDisplay']);
const INPUTS = new Set(['CashierInput', 'CustomerInput']);

type Run = (command: NexoCommand) => Promise<NexoCommandResult>;

function enumAt(parent: Json, key: string, path: string, allowed: ReadonlySet<string>): string {
  const value = parent[key];
  if (typeof value !== 'string' || !allowed.has(value))
    throw new NexoFormatError(`${path}.${key}`, `expected one of ${[...allowed].join(', ')}`);
  return value;
}

const DEVICES = new Set([...DISPLAYS, ...INPUTS]);
const INFO_QUALIFY = new Set([
  'CustomerAssistance',
  'Display',
  'Document',
  'Error',
  'Input',
  'POIReplication',
  'Receipt',
  'Sound',
  'Status',
  'Voucher',
]);
const DOCUMENTS = new Set(['CashierReceipt', 'CustomerReceipt', 'Document', 'Journal', 'SaleReceipt', 'Voucher']);
const RESPONSE_MODES = new Set(['NotRequired', 'Immediate', 'PrintEnd', 'SoundEnd']);

function answered(result: NexoCommandResult): NexoResult {
  return result.ok ? success() : failure(conditionOfRefusal(result), { error: result.error, message: result.message });
}

export async function display(body: Json, run: Run): Promise<Json> {
  const outputs = body['DisplayOutput'];
  const path = 'DisplayRequest.DisplayOutput';
  if (!Array.isArray(outputs) || outputs.length === 0 || outputs.length > MAX_OUTPUTS)
    throw new NexoFormatError(path, `expected 1 to ${MAX_OUTPUTS} outputs`);
  // Read all first: a request at fault anywhere changes nothing on screen.
  const parsed = outputs.map((output: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(output)) throw new NexoFormatError(at, 'expected an object');
    const device = enumAt(output, 'Device', at, DEVICES);
    const infoQualify = enumAt(output, 'InfoQualify', at, INFO_QUALIFY);
    const seconds = output['MinimumDisplayTime'];
    if (seconds !== undefined && (!Number.isInteger(seconds) || (seconds as number) < 0 || (seconds as number) > 3600))
      throw new NexoFormatError(`${at}.MinimumDisplayTime`, 'expected whole seconds, 0 to 3600');
    const content = parseOutputContent(output['OutputContent'], `${at}.OutputContent`);
    return { device, infoQualify, seconds: seconds as number | undefined, content };
  });
  const results: Json[] = [];
  for (const { device, infoQualify, seconds, content } of parsed) {
    let response: NexoResult;
    if (INPUTS.has(device)) response = failure('UnavailableDevice', { reason: `${device}: no input display here` });
    else if (!content.ok)
      response = failure('UnavailableService', { reason: `${content.unsupported} is not supported` });
    else
      response = answered(
        await run({
          kind: 'display',
          lines: content.lines.map((line) => line.text),
          ...(seconds !== undefined ? { minimumDisplayMs: seconds * 1000 } : {}),
        }),
      );
    results.push({ Device: device, InfoQualify: infoQualify, Response: response });
  }
  return { OutputResult: results };
}

/** The printer's answer once the document is printed (every ResponseMode waits: a refusal must reach the register). */
export async function print(body: Json, run: Run): Promise<Json> {
  const path = 'PrintRequest.PrintOutput';
  const output = objectAt(body, 'PrintOutput', 'PrintRequest');
  const qualifier = enumAt(output, 'DocumentQualifier', path, DOCUMENTS);
  enumAt(output, 'ResponseMode', path, RESPONSE_MODES);
  const content = parseOutputContent(output['OutputContent'], `${path}.OutputContent`);
  if (!content.ok)
    return {
      DocumentQualifier: qualifier,
      Response: failure('UnavailableService', { reason: `${content.unsupported} is not supported` }),
    };
  const result = await run({
    kind: 'print',
    document: {
      lines: content.lines,
      ...(content.barcode ? { barcode: content.barcode } : {}),
      cut: true,
    },
  });
  return { DocumentQualifier: qualifier, Response: answered(result) };
}
