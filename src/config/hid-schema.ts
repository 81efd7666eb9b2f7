/** `hal.cardReader.hid`: which USB HID reader, which of its interfaces, and how its keyboard reports are read. */
import { z } from 'zod';
import { int, obj, usbId } from './schema-parts.js';

export const hidReaderSchema = obj({
  vendorId: usbId,
  productId: usbId,
  /** bInterfaceNumber of the interface to open (a reader with a keyboard and a vendor interface); default the first. */
  interface: int(0, 255).optional(),
  /** Reports carry a report-ID byte first: true for any ID, a number to read only that ID. Default false. */
  reportId: z
    .custom<boolean | number>(
      (v) => typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255),
      { error: 'true, false or an integer from 0 to 255' },
    )
    .optional(),
  /** Silence that ends a swipe not ended by Enter. Default 200 ms. */
  interCharTimeoutMs: int(5, 5_000).optional(),
  /** Silence after an Enter that ends the swipe (the next track of the same swipe comes sooner). Default 100 ms. */
  interTrackGapMs: int(5, 5_000).optional(),
});

export type HidReaderConfig = z.infer<typeof hidReaderSchema>;
