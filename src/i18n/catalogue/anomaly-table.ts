/** The anomaly texts of a catalogue, written one row per code as [title, what happened, what to do]. */
import type { AnomalyText } from '../messages.js';

export type AnomalyRows = Readonly<Record<string, readonly [title: string, message: string, action: string]>>;

export function anomalyTexts(rows: AnomalyRows): Readonly<Record<string, AnomalyText>> {
  return Object.freeze(
    Object.fromEntries(
      Object.entries(rows).map(([code, [title, message, action]]) => [code, { title, message, action }]),
    ),
  );
}
