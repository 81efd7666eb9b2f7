import { expect } from 'vitest';
import { DeviceFaultError, type DeviceClass } from '../../hal/fault.js';

/** Awaits a promise that must reject with a DeviceFaultError for this device and code; returns the error. */
export async function expectFault(
  promise: Promise<unknown>,
  device: DeviceClass,
  code: string,
): Promise<DeviceFaultError> {
  let error: unknown;
  let resolved = false;
  try {
    await promise;
    resolved = true;
  } catch (e) {
    error = e;
  }
  expect(resolved, `expected a '${code}' fault, but the call resolved`).toBe(false);
  expect(error).toBeInstanceOf(DeviceFaultError);
  const fault = error as DeviceFaultError;
  expect({ device: fault.device, code: fault.code }).toEqual({ device, code });
  return fault;
}

/** Tracks whether a promise has settled yet, without awaiting it. */
export function track<T>(promise: Promise<T>): { readonly settled: boolean; promise: Promise<T> } {
  const state = { settled: false, promise };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}
