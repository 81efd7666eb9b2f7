/**
 * Times as the shop reads them: in the terminal's IANA time zone (`terminal.timeZone`, default the system's), by
 * the platform's Intl time-zone data, so daylight saving changes come from the tz database and not from us. The
 * offset is printed with the time, so a receipt of the repeated hour of an autumn change is still unambiguous.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether the platform knows this IANA zone name ("Europe/Paris", "Asia/Shanghai", "UTC"). */
export function isTimeZone(name: string): boolean {
  try {
    formatterFor(name);
    return true;
  } catch {
    return false;
  }
}

/** The zone the system runs in (TZ, /etc/localtime), what a terminal without `terminal.timeZone` prints in. */
export function systemTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

interface LocalParts {
  date: string;
  time: string;
  /** "+02:00", "+00:00". */
  offset: string;
}

function localParts(at: Date, timeZone: string): LocalParts {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  // longOffset is "GMT+02:00", or plain "GMT" at offset zero.
  const offset = (parts['timeZoneName'] ?? 'GMT').replace(/^GMT/, '') || '+00:00';
  return {
    date: `${parts['year']}-${parts['month']}-${parts['day']}`,
    time: `${parts['hour']}:${parts['minute']}:${parts['second']}`,
    offset,
  };
}

/** "2026-03-29 03:30:00 UTC+02:00": the local date and time with its offset from UTC. */
export function formatLocalDateTime(at: Date, timeZone: string = systemTimeZone()): string {
  const p = localParts(at, timeZone);
  return `${p.date} ${p.time} UTC${p.offset}`;
}

/** "03:30:00": the local time of day, for a screen. */
export function formatLocalTime(at: Date, timeZone: string = systemTimeZone()): string {
  return localParts(at, timeZone).time;
}
