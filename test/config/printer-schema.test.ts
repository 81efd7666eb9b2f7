/** The printer section of the configuration: transports, serial line settings, reconnect and the cash drawer. */
import { describe, expect, it } from 'vitest';
import { printer } from '../../src/config/printer-schema.js';

const base = { statusTimeoutMs: 500, columns: 42 };

describe('hal.printer', () => {
  it.each([
    [{ driver: 'escpos-usb', usb: { path: '/dev/usb/lp0' } }],
    [{ driver: 'escpos-tcp', tcp: { host: '192.168.1.50', port: 9100 } }],
    [
      {
        driver: 'escpos-serial',
        serial: { path: '/dev/ttyS1', baudRate: 9600, parity: 'even', dataBits: 7, flowControl: 'xonxoff' },
      },
    ],
    [
      {
        driver: 'mock',
        drawer: { pin: 5, pulseMs: 120, openWhenPin3: 'low' },
        reconnect: { initialDelayMs: 100, maxDelayMs: 100 },
      },
    ],
  ])('takes %j', (section) => {
    expect(printer.safeParse({ ...base, ...section }).success).toBe(true);
  });

  it.each([
    [{ driver: 'escpos-usb' }, 'usb', 'an object { path } when driver is "escpos-usb"'],
    [{ driver: 'escpos-tcp' }, 'tcp', 'an object { host, port } when driver is "escpos-tcp"'],
    [
      { driver: 'escpos-serial', serial: { path: '/dev/ttyS1', baudRate: 9600, flowControl: 'dtr' } },
      'serial.flowControl',
      'one of',
    ],
    [
      { driver: 'escpos-serial', serial: { path: '/dev/ttyS1', baudRate: 9600, parity: 'yes' } },
      'serial.parity',
      'one of',
    ],
    [{ driver: 'mock', drawer: { pin: 3, pulseMs: 100, openWhenPin3: 'high' } }, 'drawer.pin', '2 or 5'],
    [{ driver: 'mock', reconnect: { initialDelayMs: 1000, maxDelayMs: 100 } }, 'reconnect', 'maxDelayMs at least'],
  ])('refuses %j at %s', (section, path, message) => {
    const result = printer.safeParse({ ...base, ...section });
    expect(result.success).toBe(false);
    const issue = result.error!.issues[0]!;
    expect(issue.path.join('.')).toBe(path);
    expect(issue.message).toContain(message);
  });
});
