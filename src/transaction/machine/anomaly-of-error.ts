/** The anomaly an actor's failure stands for: a host error, a device fault, or anything else as a system fault. */
import { isDeviceFault } from '../../../hal/fault.js';
import { anomalyForDeviceFault, anomalyForHostError } from '../../anomaly/index.js';
import { type AnomalyRef, AuthorizationFailure } from '../types.js';

export function anomalyFromError(error: unknown): AnomalyRef {
  if (error instanceof AuthorizationFailure) return { name: anomalyForHostError(error.code), reason: error.message };
  if (isDeviceFault(error)) {
    return {
      name: anomalyForDeviceFault(error).name,
      reason: error.message,
      fault: { device: error.device, code: error.code, message: error.message },
    };
  }
  return { name: 'system-fault', reason: error instanceof Error ? error.message : String(error) };
}
