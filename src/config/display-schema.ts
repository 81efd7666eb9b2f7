/**
 * The screen (`hal.display`): the mock (screens kept for the ECR stream and tests), the console (the simulator's
 * terminal window) or the Linux framebuffer (the terminal's own screen). The framebuffer's geometry is read from
 * /sys/class/graphics/fbN unless all of width, height and bitsPerPixel are given.
 */
import { z } from 'zod';
import { int, obj, oneOf, str } from './schema-parts.js';

const framebuffer = obj({
  path: str('a framebuffer device path like "/dev/fb0" or "/dev/pos-display"'),
  width: int(120, 8192).optional(),
  height: int(120, 8192).optional(),
  bitsPerPixel: z.union([z.literal(16), z.literal(24), z.literal(32)], { error: '16, 24 or 32' }).optional(),
  /** Bytes from one row to the next; default width × bytes per pixel. */
  stride: int(240, 1 << 20).optional(),
});

export const display = obj({
  driver: oneOf(['mock', 'console', 'framebuffer']),
  framebuffer: framebuffer.optional(),
}).superRefine((v, ctx) => {
  if (v.driver === 'framebuffer' && v.framebuffer === undefined) {
    ctx.addIssue({ code: 'custom', path: ['framebuffer'], message: 'an object { path } when driver is "framebuffer"' });
  }
});
