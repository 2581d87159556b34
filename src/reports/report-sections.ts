import { formatTime } from '../console/console-time.js';

/**
 * A report as titled sections of facts and tables: what both the HTML and the PDF show, so
 * the two downloads (and the e-mail) cannot say different things.
 */
export interface ReportSection {
  title: string;
  facts?: [term: string, value: string][];
  table?: { caption: string; head: string[]; rows: string[][]; empty: string };
}

export interface ReportDocument {
  title: string;
  subtitle: string;
  sections: ReportSection[];
}

/** Times in the hospital's zone, with the zone named (console-time.ts). */
export const timeIn = (timeZone: string) => (value: Date | string | null | undefined) => formatTime(value, timeZone);

export const orDash = (value: string | null | undefined): string => (value ? value : '—');
