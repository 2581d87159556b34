import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A self-signed certificate (P-256, valid one day, or `days`) written into `dir` by the `openssl` the
 * tests need anyway (.ci/run installs it): a throwaway CA, or a server certificate with
 * subjectAltNames. Returns the PEM files.
 */
export function selfSignedCertificate(
  dir: string,
  options: { subject: string; altNames?: string; name?: string; days?: number },
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
      String(options.days ?? 1),
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

/**
 * A self-signed certificate valid only in January 2024, so expired: `openssl req` cannot date
 * one in the past, `openssl ca -selfsign` with -startdate/-enddate can (its bookkeeping in `dir`).
 */
export function expiredCertificate(dir: string, name = 'expired'): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ca = join(dir, `${name}-ca`);
  mkdirSync(ca, { recursive: true });
  writeFileSync(join(ca, 'index.txt'), '');
  writeFileSync(join(ca, 'serial'), '01\n');
  const config = join(ca, 'ca.cnf');
  writeFileSync(
    config,
    `[ca]\ndefault_ca = self\n[self]\ndatabase = ${ca}/index.txt\nnew_certs_dir = ${ca}\nserial = ${ca}/serial\n` +
      'default_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = supplied\n',
  );
  const run = (args: string) => execFileSync('openssl', args.split(' '), { stdio: 'pipe' });
  // Paths from mkdtemp: no spaces, so splitting on spaces is safe.
  run(
    `req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=expired.test -keyout ${keyFile} -out ${csr}`,
  );
  run(
    `ca -batch -config ${config} -selfsign -keyfile ${keyFile} -in ${csr} -out ${certFile} -notext ` +
      '-startdate 20240101000000Z -enddate 20240201000000Z',
  );
  return { certFile, keyFile };
}
