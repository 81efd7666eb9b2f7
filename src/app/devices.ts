/**
 * The devices the configuration names: real drivers are imported only when named, so the desktop default runs on
 * mocks alone. Mocks are also handed back for the simulator commands and tests to drive.
 */
import type { Writable } from 'node:stream';
import type { CardReader } from '../../hal/card-reader/contract.js';
import { MockCardReader } from '../../hal/card-reader/mock.js';
import type { Clock } from '../../hal/clock.js';
import { deriveTdesIpek } from '../../hal/crypto/index.js';
import type { Display } from '../../hal/display/contract.js';
import { MockDisplay } from '../../hal/display/mock.js';
import type { NetworkMonitor } from '../../hal/network/contract.js';
import { MockNetworkMonitor } from '../../hal/network/mock.js';
import type { PinPad } from '../../hal/pin-pad/contract.js';
import { MockPinPad } from '../../hal/pin-pad/mock.js';
import type { Printer } from '../../hal/printer/contract.js';
import { MockPrinter } from '../../hal/printer/mock.js';
import { buildPrinter } from './printer-device.js';
import { withPrinterModel } from '../../hal/printer/model-printer.js';
import { printerModelProfile } from '../../hal/printer/model-profiles.js';
import type { PosConfig } from '../config/index.js';
import { MirroredDisplay } from './mirrored-display.js';
import type { MockDevices } from './mock-devices.js';

/**
 * The desktop PIN pad's key: the X9.24-1 test BDK and initial KSN, the same the embedded host simulator decrypts
 * with. A test key by design: a real PIN pad gets its initial key in a key-injection room, never from this file.
 */
export const SIMULATOR_DUKPT = {
  bdk: Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex'),
  initialKsn: Buffer.from('FFFF9876543210E00000', 'hex'),
} as const;

// Real drivers are imported only when the configuration names them: the desktop default runs on mocks alone.
export async function buildDevices(config: PosConfig, clock: Clock, consoleOut: Writable | undefined) {
  const mocks: MockDevices = {};
  const { cardReader, printer: printerConfig, network: networkConfig } = config.hal;
  const HidMsrReader =
    cardReader.driver === 'hid' ? (await import('../../hal/card-reader/hid-msr.js')).HidMsrReader : undefined;
  const SerialCardModule =
    cardReader.driver === 'serial'
      ? (await import('../../hal/card-reader/serial-module.js')).SerialCardModule
      : undefined;
  const LinuxNetworkMonitor =
    networkConfig.driver === 'linux' ? (await import('../../hal/network/linux.js')).LinuxNetworkMonitor : undefined;
  const ConsoleDisplay =
    config.hal.display.driver === 'console' ? (await import('../../hal/display/console.js')).ConsoleDisplay : undefined;
  const screen = config.hal.display.framebuffer;
  const framebuffer =
    config.hal.display.driver === 'framebuffer' && screen
      ? await (await import('../../hal/display/framebuffer.js')).FramebufferDisplay.open(screen)
      : undefined;

  // The schema guarantees the driver's own section is present when that driver is chosen.
  const reader: CardReader = HidMsrReader
    ? new HidMsrReader({ ...hidOptions(cardReader.hid!), clock })
    : SerialCardModule
      ? new SerialCardModule({ path: cardReader.serial!.path, baudRate: cardReader.serial!.baudRate, clock })
      : new MockCardReader(clock);
  if (reader instanceof MockCardReader) mocks.reader = reader;

  const printer: Printer = await buildPrinter(printerConfig, clock);
  if (printer instanceof MockPrinter) mocks.printer = printer;
  // The configured model decides the code pages and Chinese mode the documents are encoded with.
  const modelPrinter = printerConfig.model
    ? withPrinterModel(printer, printerModelProfile(printerConfig.model))
    : printer;

  const network: NetworkMonitor = LinuxNetworkMonitor
    ? new LinuxNetworkMonitor({ interface: networkConfig.interface, clock })
    : new MockNetworkMonitor();
  if (network instanceof MockNetworkMonitor) mocks.network = network;

  // A mock display always records screens (for the ECR stream and tests); the console or the screen draws them too.
  mocks.display = new MockDisplay();
  const display: Display = ConsoleDisplay
    ? new MirroredDisplay([mocks.display, new ConsoleDisplay(consoleOut ?? process.stdout)])
    : framebuffer
      ? new MirroredDisplay([mocks.display, framebuffer])
      : mocks.display;
  const pinPad = await buildPinPad(config, clock, mocks);
  return { reader, printer: modelPrinter, network, display, pinPad, mocks };
}

/** The configured HID reader's options; absent ones keep the driver's defaults. */
function hidOptions(hid: NonNullable<PosConfig['hal']['cardReader']['hid']>) {
  return {
    vendorId: hid.vendorId,
    productId: hid.productId,
    ...(hid.interface !== undefined ? { usbInterface: hid.interface } : {}),
    ...(hid.reportId !== undefined ? { reportId: hid.reportId } : {}),
    ...(hid.interCharTimeoutMs !== undefined ? { interCharTimeoutMs: hid.interCharTimeoutMs } : {}),
    ...(hid.interTrackGapMs !== undefined ? { interTrackGapMs: hid.interTrackGapMs } : {}),
  };
}

async function buildPinPad(config: PosConfig, clock: Clock, mocks: MockDevices): Promise<PinPad | undefined> {
  const { pinPad } = config.hal;
  if (pinPad.driver === 'serial') {
    const { SerialPinPad } = await import('../../hal/pin-pad/serial.js');
    return new SerialPinPad({ path: pinPad.serial!.path, baudRate: pinPad.serial!.baudRate, clock });
  }
  if (pinPad.driver === 'none') return undefined;
  const mock = new MockPinPad(clock);
  mock.injectKey({
    scheme: 'tdes-dukpt',
    initialKey: deriveTdesIpek(SIMULATOR_DUKPT.bdk, SIMULATOR_DUKPT.initialKsn),
    initialKsn: SIMULATOR_DUKPT.initialKsn,
  });
  mocks.pinPad = mock;
  return mock;
}
