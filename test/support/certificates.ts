import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * A self-signed certificate (P-256, valid one day) written into `dir` by the `openssl` the
 * tests need anyway (.ci/run installs it): a throwaway CA, or a server certificate with
 * subjectAltNames. Returns the PEM files.
 */
export function selfSignedCertificate(
  dir: string,
  options: { subject: string; altNames?: string; name?: string },
): { certFile: string; keyFile: string } {
  const name = options.name ?? 'cert';
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      options.subject,
      ...(options.altNames ? ['-addext', `subjectAltName=${options.altNames}`] : []),
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'pipe' },
  );
  return { certFile, keyFile };
}
