/**
 * The mock devices the composition root builds when the configuration runs on them. A file of its own so the
 * front ends and the simulator commands can name them without importing the composition root.
 */
import type { MockCardReader } from '../../hal/card-reader/mock.js';
import type { MockDisplay } from '../../hal/display/mock.js';
import type { MockNetworkMonitor } from '../../hal/network/mock.js';
import type { MockPinPad } from '../../hal/pin-pad/mock.js';
import type { MockPrinter } from '../../hal/printer/mock.js';

/** Mock devices, when the configuration runs on them: the simulator and tests drive these. */
export interface MockDevices {
  reader?: MockCardReader;
  printer?: MockPrinter;
  display?: MockDisplay;
  network?: MockNetworkMonitor;
  pinPad?: MockPinPad;
}
