/**
 * Simulator-only commands: the simulated cardholder (present or take out a test card) and the simulated hardware
 * (faults in the mock devices, misbehaviour of the embedded host simulator). A production terminal has no mocks and
 * refuses all of them.
 */
import { CARD_READER_FAULT_CODES } from '../../hal/card-reader/contract.js';
import { DISPLAY_FAULT_CODES } from '../../hal/display/contract.js';
import { PRINTER_FAULT_CODES } from '../../hal/printer/contract.js';
import type { AcquirerHostSimulator } from '../acquirer-sim/simulator.js';
import { MISBEHAVIOURS, type Misbehaviour } from '../acquirer-sim/rules.js';
import { testCard, testCardNames, testEmvProfile } from '../card/test-cards.js';
import type { SimFaultDevice } from '../ecr/index.js';
import type { MockDevices } from './mock-devices.js';

export type SimRequest =
  /** A test card by name (default visa); the cardholder takes it out when asked unless it `stays`. */
  | { kind: 'card'; name?: string; stays?: boolean }
  | { kind: 'remove' }
  /** The cardholder at the PIN pad: types this PIN (then OK), or presses cancel. */
  | { kind: 'pin'; pin?: string; cancel?: true }
  /** The cardholder at the tip prompt: types this tip in minor units (0: none, then OK), or presses cancel. */
  | { kind: 'tip'; amount?: number; cancel?: true }
  /** A fault code of the device, or "clear"; the network takes "up" or "down". */
  | { kind: 'fault'; device: SimFaultDevice; code: string; atStep?: number; times?: number };

export type SimResult =
  | { ok: true; kind: 'card'; card: string }
  | { ok: true; kind: 'remove' }
  | { ok: true; kind: 'pin' }
  | { ok: true; kind: 'tip' }
  | { ok: true; kind: 'fault'; device: SimFaultDevice; code: string }
  | { ok: false; error: 'invalid-request' | 'not-allowed'; message: string; field?: string };

export interface SimCommandDeps {
  mocks: MockDevices;
  hostSim: AcquirerHostSimulator | undefined;
  /** Every device is a mock (or the console display): only then are simulator commands taken. */
  simulatorMode: boolean;
}

export class SimCommands {
  constructor(private readonly deps: SimCommandDeps) {}

  run(request: SimRequest): SimResult {
    if (!this.deps.simulatorMode)
      return {
        ok: false,
        error: 'not-allowed',
        message: `sim.${request.kind} is only available in simulator mode`,
        field: 'cmd',
      };
    if (request.kind === 'card') return this.card(request);
    if (request.kind === 'remove') {
      this.deps.mocks.reader?.remove();
      return { ok: true, kind: 'remove' };
    }
    if (request.kind === 'pin') return this.pin(request);
    if (request.kind === 'tip') return this.tip(request);
    return this.fault(request);
  }

  private card(request: Extract<SimRequest, { kind: 'card' }>): SimResult {
    const { reader } = this.deps.mocks;
    const card = testCard(request.name);
    if (!card)
      return refuse(
        `name: expected one of ${testCardNames().join(', ')}, found ${JSON.stringify(request.name)}`,
        'name',
      );
    if (!reader) return refuse('the card reader is not a mock');
    // An emv- test card brings its chip profile (CVM list, action codes, behaviour); others get a default chip.
    const emv = testEmvProfile(request.name ?? 'visa');
    reader.present(card, { removeWhenAsked: request.stays !== true, ...(emv ? { emv } : {}) });
    return { ok: true, kind: 'card', card: request.name ?? 'visa' };
  }

  private pin(request: Extract<SimRequest, { kind: 'pin' }>): SimResult {
    const { pinPad } = this.deps.mocks;
    if (!pinPad) return refuse('the PIN pad is not a mock');
    // Without a prompt showing, the pad keeps the keystrokes for its next one.
    if (request.cancel) pinPad.cancel();
    else pinPad.enter(request.pin ?? '');
    return { ok: true, kind: 'pin' };
  }

  private tip(request: Extract<SimRequest, { kind: 'tip' }>): SimResult {
    const { pinPad } = this.deps.mocks;
    if (!pinPad) return refuse('the PIN pad is not a mock');
    // Above the prompt's largest tip the pad refuses OK, as a real one does: the register hears it.
    if (!pinPad.typeAmount(request.cancel ? null : (request.amount ?? 0)))
      return refuse('amount: above the largest tip the prompt takes', 'amount');
    return { ok: true, kind: 'tip' };
  }

  private fault(request: Extract<SimRequest, { kind: 'fault' }>): SimResult {
    const { mocks, hostSim } = this.deps;
    const { device, code } = request;
    const known: Partial<Record<typeof device, readonly string[]>> = {
      printer: PRINTER_FAULT_CODES,
      'card-reader': CARD_READER_FAULT_CODES,
      display: DISPLAY_FAULT_CODES,
    };
    const codes = known[device];
    if (codes && code !== 'clear' && !codes.includes(code)) {
      return refuse(
        `code: expected one of ${[...codes, 'clear'].join(', ')} for the ${device}, found ${JSON.stringify(code)}`,
        'code',
      );
    }
    const times = request.times ?? 1;
    const rule = (op: string) => ({
      op,
      code,
      times,
      ...(request.atStep !== undefined ? { atStep: request.atStep } : {}),
    });
    try {
      switch (device) {
        case 'printer':
          if (!mocks.printer) return refuse('the printer is not a mock');
          if (code === 'clear') {
            mocks.printer.clearFaults();
            mocks.printer.setStatus({
              online: true,
              paper: 'ok',
              coverOpen: false,
              jammed: false,
              cutterError: false,
              overheated: false,
              unrecoverableError: false,
            });
          } else
            mocks.printer.inject(
              rule(request.atStep !== undefined ? 'print-line' : 'print') as Parameters<typeof mocks.printer.inject>[0],
            );
          break;
        case 'card-reader':
          if (!mocks.reader) return refuse('the card reader is not a mock');
          if (code === 'clear') {
            mocks.reader.clearFaults();
            mocks.reader.clearTamper();
          } else
            mocks.reader.inject(
              rule(code === 'timeout' ? 'wait' : 'read') as Parameters<typeof mocks.reader.inject>[0],
            );
          break;
        case 'display':
          if (!mocks.display) return refuse('the display is not a mock');
          if (code === 'clear') mocks.display.clearFaults();
          else mocks.display.inject(rule('show') as Parameters<typeof mocks.display.inject>[0]);
          break;
        case 'network':
          if (!mocks.network) return refuse('the network monitor is not a mock');
          if (code !== 'up' && code !== 'down') return refuse('code: expected "up" or "down" for the network', 'code');
          mocks.network.setState({ link: code });
          break;
        case 'host':
          if (!hostSim) return refuse('no embedded host simulator is running');
          if (code !== 'clear' && !MISBEHAVIOURS.includes(code as Misbehaviour)) {
            return refuse(`code: expected one of ${MISBEHAVIOURS.join(', ')} or "clear" for the host`, 'code');
          }
          hostSim.setBehaviour({ misbehaviour: code === 'clear' ? 'none' : (code as Misbehaviour) });
          break;
      }
    } catch (err) {
      return refuse(`code: ${(err as Error).message}`, 'code');
    }
    return { ok: true, kind: 'fault', device, code };
  }
}

function refuse(message: string, field?: string): SimResult {
  return { ok: false, error: 'invalid-request', message, ...(field ? { field } : {}) };
}
