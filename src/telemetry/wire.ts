/**
 * The telemetry messages, generated from proto/pos/telemetry/v1/telemetry.proto by protobufjs (`npm run proto`,
 * part of every build). Code outside src/telemetry imports them from here.
 */
import { pos } from './generated/telemetry.js';

export const wire = pos.telemetry.v1;
export type WireHeader = pos.telemetry.v1.Header.$Properties;
