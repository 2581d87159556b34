import fc from 'fast-check';

/**
 * Random requests for comparing offline answers with the server's (the offline rules of the
 * example policies: log uploads by path, in office hours, with device state). `minutes` is
 * any minute of a two-week span, so windows, days and weekends all come up.
 */
export function randomOfflineRequest() {
  return fc.record({
    action: fc.constantFrom('log-upload', 'file-download', 'restart'),
    enterprise: fc.option(fc.constantFrom('acme-medical', 'globex'), { nil: undefined }),
    groups: fc.subarray(['tier1', 'tier2', 'field']),
    path: fc.option(fc.constantFrom('/var/log/syslog', '/var/log/../../etc/shadow', '/etc/passwd', '/var/log/a/b'), {
      nil: undefined,
    }),
    inUse: fc.boolean(),
    minutes: fc.integer({ min: 0, max: 14 * 24 * 60 }),
  });
}
