/** One line per message for a person reading a terminal's timeline (the terminal is already named by the page). */
import type { TelemetryMessage } from '../messages.js';

/** Control characters a terminal's free text might carry are shown as spaces: one line stays one line. */
function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

export function timelineSummary(msg: TelemetryMessage): string {
  const parts: string[] = [];
  switch (msg.type) {
    case 'birth':
      parts.push(`birth ${msg.firmwareVersion || '?'}`, msg.model || 'model ?', `boot reason ${msg.bootReason}`);
      if (msg.session > 0) parts.push(`session ${msg.session}`);
      break;
    case 'health':
      parts.push(
        `health ${msg.state}`,
        `saf ${msg.storeAndForward.depth}`,
        `pending reversals ${msg.pendingReversals}`,
        `outbox ${msg.outboxDepth}`,
      );
      if (msg.lockReasons.length > 0) parts.push(`locked: ${msg.lockReasons.join(', ')}`);
      if (msg.limitations.length > 0) parts.push(`limited: ${msg.limitations.join(', ')}`);
      if (msg.link && !msg.link.hostUp) parts.push('host down');
      break;
    case 'event':
      parts.push(`${msg.code || msg.kind} ${msg.name} (${msg.severity})${msg.message ? `: ${msg.message}` : ''}`);
      break;
    case 'state':
      parts.push(msg.online ? 'online' : `offline${msg.reason ? ` (${msg.reason})` : ''}`);
      break;
    case 'cmd':
      parts.push(`command ${msg.name} by ${msg.issuedBy || '?'}`);
      break;
    case 'cmd-result':
      parts.push(`${msg.name} ${msg.ok ? 'ok' : `failed (${msg.error})`}${msg.message ? `: ${msg.message}` : ''}`);
      break;
  }
  return oneLine(parts.join(' · ')).slice(0, 500);
}
