/**
 * The terminal's own screen on the Linux framebuffer (/dev/fb0, or the udev name /dev/pos-display): each screen is
 * laid out as the pictures in docs/screens are (screen-layout.ts), drawn into an off-screen frame in the device's
 * pixel format and written at offset 0 in one write. Geometry comes from configuration or from
 * /sys/class/graphics/fbN/{virtual_size,bits_per_pixel,stride}. A failed write is a DeviceFaultError 'offline'; the
 * device is opened again at the next screen, so a display that came back is drawn on without a restart.
 */
import { open, readFile, realpath, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DeviceFaultError } from '../fault.js';
import type { Display, DisplayFaultCode, Screen } from './contract.js';
import { FrameCanvas, parseColour, quantise, type BitsPerPixel } from './raster.js';
import { BACKGROUND, FRAME, HEADER_HEIGHT, layoutScreen } from './screen-layout.js';

export interface FramebufferGeometry {
  width: number;
  height: number;
  bitsPerPixel: BitsPerPixel;
  /** Bytes from one row to the next (line_length); at least width × bytes per pixel. */
  stride: number;
}

export interface FramebufferOptions extends Partial<FramebufferGeometry> {
  /** The device, e.g. /dev/fb0 or /dev/pos-display (a regular file of the right size stands in for it in tests). */
  path: string;
  /** Where the geometry is read when not given; default /sys/class/graphics/<fbN the path resolves to>. */
  sysfsDir?: string;
}

function fault(message: string, err: unknown): DeviceFaultError<DisplayFaultCode> {
  const code = (err as NodeJS.ErrnoException).code;
  return new DeviceFaultError('display', 'offline', message, code ? { errno: code } : undefined);
}

async function sysfsNumber(dir: string, name: string): Promise<string> {
  return (await readFile(join(dir, name), 'utf8')).trim();
}

/** The geometry the kernel reports for a framebuffer: virtual_size "W,H", bits_per_pixel, stride. */
export async function readFramebufferGeometry(sysfsDir: string): Promise<FramebufferGeometry> {
  const size = /^(\d+),(\d+)$/.exec(await sysfsNumber(sysfsDir, 'virtual_size'));
  const bits = Number(await sysfsNumber(sysfsDir, 'bits_per_pixel'));
  const stride = Number(await sysfsNumber(sysfsDir, 'stride'));
  if (!size) throw new RangeError(`${sysfsDir}/virtual_size is not "width,height"`);
  return checkGeometry({ width: Number(size[1]), height: Number(size[2]), bitsPerPixel: bits as BitsPerPixel, stride });
}

function checkGeometry(g: FramebufferGeometry): FramebufferGeometry {
  if (![16, 24, 32].includes(g.bitsPerPixel)) throw new RangeError(`unsupported ${g.bitsPerPixel} bits per pixel`);
  if (!Number.isInteger(g.width) || !Number.isInteger(g.height) || g.width < 120 || g.height < 120)
    throw new RangeError(`a framebuffer of ${g.width}×${g.height} is too small for the screens (120×120 at least)`);
  if (!Number.isInteger(g.stride) || g.stride < (g.width * g.bitsPerPixel) / 8)
    throw new RangeError(`stride ${g.stride} is shorter than a row of ${g.width} pixels`);
  return g;
}

async function geometryOf(options: FramebufferOptions): Promise<FramebufferGeometry> {
  const { width, height, bitsPerPixel } = options;
  if (width !== undefined && height !== undefined && bitsPerPixel !== undefined) {
    return checkGeometry({ width, height, bitsPerPixel, stride: options.stride ?? (width * bitsPerPixel) / 8 });
  }
  const dir = options.sysfsDir ?? join('/sys/class/graphics', basename(await realpath(options.path)));
  const read = await readFramebufferGeometry(dir);
  return checkGeometry({
    width: width ?? read.width,
    height: height ?? read.height,
    bitsPerPixel: bitsPerPixel ?? read.bitsPerPixel,
    stride: options.stride ?? read.stride,
  });
}

/** Draws a screen into a frame of the given geometry: the same layout as renderScreenSvg. */
export function drawScreen(screen: Screen, geometry: FramebufferGeometry): FrameCanvas {
  const canvas = new FrameCanvas(geometry.width, geometry.height, geometry.stride, geometry.bitsPerPixel);
  const layout = layoutScreen(screen, geometry);
  canvas.fillRect(0, 0, layout.width, layout.height, parseColour(BACKGROUND));
  canvas.fillRect(0, 0, layout.width, HEADER_HEIGHT, parseColour(layout.headerColour));
  canvas.strokeRect(0, 0, layout.width, layout.height, parseColour(FRAME));
  if (layout.title) canvas.drawText(layout.title);
  if (layout.badge) {
    canvas.fillBox(layout.badge.box);
    canvas.drawText(layout.badge.text);
  }
  for (const line of layout.body) canvas.drawText(line);
  if (layout.action) {
    canvas.fillBox(layout.action.box);
    canvas.fillBox(layout.action.bar);
    for (const line of layout.action.lines) canvas.drawText(line);
  }
  return canvas;
}

export class FramebufferDisplay implements Display {
  private handle: FileHandle | undefined;

  private constructor(
    private readonly path: string,
    readonly geometry: FramebufferGeometry,
  ) {}

  /** Reads the geometry (refused with a RangeError or the file error when it cannot be known). */
  static async open(options: FramebufferOptions): Promise<FramebufferDisplay> {
    return new FramebufferDisplay(options.path, await geometryOf(options));
  }

  async show(screen: Screen): Promise<void> {
    await this.write(drawScreen(screen, this.geometry).buffer);
  }

  async clear(): Promise<void> {
    const canvas = new FrameCanvas(
      this.geometry.width,
      this.geometry.height,
      this.geometry.stride,
      this.geometry.bitsPerPixel,
    );
    canvas.fillRect(0, 0, this.geometry.width, this.geometry.height, quantise(0, this.geometry.bitsPerPixel));
    await this.write(canvas.buffer);
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => {});
  }

  private async write(frame: Buffer): Promise<void> {
    try {
      this.handle ??= await open(this.path, 'r+');
      const { bytesWritten } = await this.handle.write(frame, 0, frame.length, 0);
      if (bytesWritten !== frame.length) throw new Error(`wrote ${bytesWritten} of ${frame.length} bytes`);
    } catch (err) {
      // Reopened at the next screen: a display unplugged and back is drawn on again.
      await this.close();
      throw fault(`framebuffer ${this.path}: ${(err as Error).message}`, err);
    }
  }
}
