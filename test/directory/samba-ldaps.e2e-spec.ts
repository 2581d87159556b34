/**
 * The test directory is a real Samba AD DC (started once per test run by the Jest globalSetup, see
 * test/support/samba-dc.ts). These tests pin down the properties the rest of the suite relies on:
 * LDAPS with real certificate verification, and a hardened DC that refuses plaintext simple binds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client, StrongAuthRequiredError } from 'ldapts';
import { selfSignedCertificate } from '../support/certificates.js';
import { connectAsAdmin, readSambaInfo, sambaTlsOptions, type SambaDc } from '../support/samba-dc.js';

/** Node's TLS error codes for a certificate chain that does not lead to a trusted CA. */
const UNTRUSTED_CERT_CODES = [
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
];

function sambaInfoFile(): string {
  const file = process.env.GATEHOUSE_TEST_SAMBA_INFO;
  if (!file) {
    throw new Error(
      'GATEHOUSE_TEST_SAMBA_INFO is not set: the Samba DC description is written by the Jest globalSetup ' +
        '(test/support/global-setup.ts) - run these tests with `npm test`, not with a bare jest invocation ' +
        'and without GATEHOUSE_TEST_DIRECTORY=off',
    );
  }
  return file;
}

/** Runs `fn`, expecting it to reject; returns the rejection reason. */
async function rejectionOf(fn: () => Promise<unknown>): Promise<Error & { code?: unknown }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: unknown };
  }
  throw new Error('expected the operation to fail, but it succeeded');
}

describe('Samba AD DC over LDAPS (real DC on loopback)', () => {
  let dc: SambaDc;
  let scratch: string;
  let impostorCaPem: string;

  beforeAll(async () => {
    dc = await readSambaInfo(sambaInfoFile());

    // A throwaway CA that even copies the subject of Samba's CA: trust must come from the signature,
    // not from a matching name.
    scratch = mkdtempSync(path.join(tmpdir(), 'gatehouse-wrong-ca-'));
    const subject = execFileSync('openssl', ['x509', '-in', dc.caFile, '-noout', '-subject', '-nameopt', 'compat'], {
      encoding: 'utf8',
    })
      .replace(/^subject=\s*/, '')
      .trim();
    const impostor = selfSignedCertificate(scratch, {
      subject: subject.startsWith('/') ? subject : '/CN=Gatehouse impostor CA',
      name: 'ca',
    });
    impostorCaPem = readFileSync(impostor.certFile, 'utf8');
  });

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('binds as the Administrator over LDAPS, verifying the certificate, and reads the domain object', async () => {
    expect(dc.ldapsUrl).toBe('ldaps://127.0.0.1:636');
    const client = await connectAsAdmin(dc);
    try {
      const { searchEntries } = await client.search(dc.baseDn, {
        scope: 'base',
        attributes: ['objectClass', 'distinguishedName', 'name'],
      });
      expect(searchEntries).toHaveLength(1);
      expect(searchEntries[0]?.dn).toBe(dc.baseDn);
      expect(searchEntries[0]?.objectClass).toEqual(expect.arrayContaining(['domain', 'domainDNS']));
    } finally {
      await client.unbind();
    }
  });

  it('refuses the connection when the certificate is checked against a different CA', async () => {
    const client = new Client({
      url: dc.ldapsUrl,
      connectTimeout: 5_000,
      tlsOptions: { ca: [impostorCaPem], servername: dc.serverName, minVersion: 'TLSv1.2' },
    });
    try {
      const err = await rejectionOf(() => client.bind(dc.adminDn, dc.adminPassword));
      expect(UNTRUSTED_CERT_CODES).toContain(err.code);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  });

  it('refuses the connection when the certificate does not name the expected server', async () => {
    const client = new Client({
      url: dc.ldapsUrl,
      connectTimeout: 5_000,
      tlsOptions: { ca: [dc.caPem], servername: 'impostor.hosp.test', minVersion: 'TLSv1.2' },
    });
    try {
      const err = await rejectionOf(() => client.bind(dc.adminDn, dc.adminPassword));
      expect(err.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      await client.unbind().catch(() => undefined);
    }
  });

  it('refuses a simple bind on plain ldap:// without TLS, like a hardened AD', async () => {
    expect(dc.ldapUrl).toBe('ldap://127.0.0.1:389');
    const client = new Client({ url: dc.ldapUrl, connectTimeout: 5_000 });
    try {
      const err = await rejectionOf(() => client.bind(dc.adminDn, dc.adminPassword));
      expect(err).toBeInstanceOf(StrongAuthRequiredError);
      expect(err.code).toBe(8); // LDAP resultCode strongerAuthRequired
    } finally {
      await client.unbind().catch(() => undefined);
    }
  });

  it('accepts a bind on ldap:// after StartTLS with the DC certificate verified', async () => {
    const client = new Client({ url: dc.ldapUrl, connectTimeout: 5_000 });
    try {
      await client.startTLS(sambaTlsOptions(dc));
      await client.bind(dc.adminDn, dc.adminPassword);
      const { searchEntries } = await client.search(dc.baseDn, { scope: 'base', attributes: ['dc'] });
      expect(searchEntries[0]?.dn).toBe(dc.baseDn);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  });

  it('refuses StartTLS when the certificate is checked against a different CA', async () => {
    const client = new Client({ url: dc.ldapUrl, connectTimeout: 5_000 });
    try {
      const err = await rejectionOf(() =>
        client.startTLS({ ca: [impostorCaPem], servername: dc.serverName, minVersion: 'TLSv1.2' }),
      );
      expect(UNTRUSTED_CERT_CODES).toContain(err.code);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  });
});
