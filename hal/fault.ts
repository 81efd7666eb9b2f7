/**
 * Typed device faults. Every HAL call that fails rejects with a DeviceFaultError, never a bare Error, so the
 * machines and the anomaly taxonomy can act on `device` + `code` without parsing messages.
 */
export type DeviceClass = 'card-reader' | 'pin-pad' | 'printer' | 'display' | 'host-link' | 'network';

export interface DeviceFault {
  readonly device: DeviceClass;
  readonly code: string;
  readonly message: string;
  /** Extra facts for the journal (never card data). */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export class DeviceFaultError<C extends string = string> extends Error implements DeviceFault {
  override readonly name = 'DeviceFaultError';
  constructor(
    readonly device: DeviceClass,
    readonly code: C,
    message: string,
    readonly detail?: Readonly<Record<string, string | number | boolean>>,
  ) {
    super(message);
  }

  toJSON(): DeviceFault {
    return {
      device: this.device,
      code: this.code,
      message: this.message,
      ...(this.detail ? { detail: this.detail } : {}),
    };
  }
}

export function isDeviceFault(value: unknown): value is DeviceFaultError {
  return value instanceof DeviceFaultError;
}
