import type { Display, Screen } from '../../hal/display/contract.js';

/** Shows each screen on every display given (e.g. the mock that tests read and the console a person reads). */
export class MirroredDisplay implements Display {
  constructor(private readonly displays: Display[]) {}
  async show(screen: Screen): Promise<void> {
    await Promise.all(this.displays.map((d) => d.show(screen)));
  }
  async clear(): Promise<void> {
    await Promise.all(this.displays.map((d) => d.clear()));
  }
}
