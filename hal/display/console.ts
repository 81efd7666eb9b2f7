/**
 * Display driver that draws each screen as a framed box on a text stream: the simulator's "screen" in a
 * terminal window, and a stand-in for a line display.
 */
import type { Writable } from 'node:stream';
import type { Display, Screen } from './contract.js';

const WIDTH = 34;
const SEVERITY_MARK: Record<Screen['severity'], string> = { info: ' ', success: '+', warning: '!', error: 'x' };

export function renderScreenText(screen: Screen): string {
  const fitWidth = (text: string) => (text.length > WIDTH ? `${text.slice(0, WIDTH - 1)}~` : text.padEnd(WIDTH));
  const title = `${SEVERITY_MARK[screen.severity]} ${screen.title}${screen.code ? ` [${screen.code}]` : ''}`;
  return [
    `+${'-'.repeat(WIDTH + 2)}+`,
    `| ${fitWidth(title)} |`,
    `|${' '.repeat(WIDTH + 2)}|`,
    ...screen.lines.map((line) => `| ${fitWidth(line)} |`),
    `+${'-'.repeat(WIDTH + 2)}+`,
  ].join('\n');
}

export class ConsoleDisplay implements Display {
  constructor(private readonly out: Writable) {}

  async show(screen: Screen): Promise<void> {
    this.out.write(`${renderScreenText(screen)}\n`);
  }

  async clear(): Promise<void> {
    this.out.write('\n');
  }
}
