const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * A time as the hospital reads it: in CONSOLE_TIME_ZONE, with the zone named, so that a
 * phone set to another zone (or a server in UTC) cannot mislead anyone.
 */
export function formatTime(value: Date | string | null | undefined, timeZone: string): string {
  if (value === null || value === undefined) return '—';
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) return '—';
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hour12: false,
    });
    formats.set(timeZone, format);
  }
  return `${format.format(date)} (${timeZone})`;
}

/** "3 min ago", for how fresh a device's reported state is. */
export function formatAge(value: Date | string | null | undefined, now: Date): string {
  if (value === null || value === undefined) return 'never reported';
  const seconds = Math.max(0, Math.round((now.getTime() - new Date(value).getTime()) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}
