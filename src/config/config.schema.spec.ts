import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './config.schema.js';

describe('configuration', () => {
  it('starts on a bare machine with defaults', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(8080);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.GATEHOUSE_DATA_DIR).toBe('./data');
    expect(config.GATEHOUSE_ADMIN_PASSWORD).toBeUndefined();
  });

  it('names each bad variable and what is expected', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', GATEHOUSE_ADMIN_PASSWORD: 'short' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/PORT: expected a whole number from 1 to 65535 \(got 'eighty'\)/);
    expect(message).toMatch(/DATABASE_URL: expected a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(message).toMatch(/LOG_LEVEL/);
    expect(message).toMatch(/GATEHOUSE_ADMIN_PASSWORD: expected at least 12 characters/);
    // Secrets are never echoed back.
    expect(message).not.toContain("'short'");
  });

  it('takes OFFLINE_POLICY_HOURS from 1 to 720 (default 24), naming a bad value', () => {
    expect(loadConfig({}).OFFLINE_POLICY_HOURS).toBe(24);
    expect(loadConfig({ OFFLINE_POLICY_HOURS: '720' }).OFFLINE_POLICY_HOURS).toBe(720);
    const problem = (value: string) => {
      try {
        loadConfig({ OFFLINE_POLICY_HOURS: value });
      } catch (e) {
        return (e as ConfigError).message;
      }
      return 'accepted';
    };
    expect(problem('0')).toMatch(/OFFLINE_POLICY_HOURS: expected at least 1 \(got '0'\)/);
    expect(problem('721')).toMatch(/OFFLINE_POLICY_HOURS: expected at most 720/);
    expect(problem('a day')).toMatch(/OFFLINE_POLICY_HOURS: expected a whole number from 1 to 720/);
  });

  it('keeps audit records six years (2192 days) by default, in segments of 100,000; names a bad value', () => {
    const config = loadConfig({});
    expect(config.AUDIT_RETENTION_DAYS).toBe(2192);
    expect(config.AUDIT_SEGMENT_RECORDS).toBe(100_000);
    expect(config.AUDIT_ARCHIVE_DIR).toBeUndefined();
    const problem = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        return (e as ConfigError).message;
      }
      return 'accepted';
    };
    expect(problem({ AUDIT_RETENTION_DAYS: '0' })).toMatch(/AUDIT_RETENTION_DAYS: expected at least 1 \(got '0'\)/);
    expect(problem({ AUDIT_RETENTION_DAYS: 'six years' })).toMatch(/AUDIT_RETENTION_DAYS: expected a whole number/);
    expect(problem({ AUDIT_SEGMENT_RECORDS: '0' })).toMatch(/AUDIT_SEGMENT_RECORDS: expected at least 1/);
  });

  it("sizes the embedded database's memory for a small VM by default, within what PGlite can hold", () => {
    const config = loadConfig({});
    expect(config.EMBEDDED_SHARED_BUFFERS_MB).toBe(16);
    expect(config.EMBEDDED_WORK_MEM_MB).toBe(4);
    expect(config.EMBEDDED_MAINTENANCE_WORK_MEM_MB).toBe(16);
    expect(config.EMBEDDED_WASM_TIER_UP).toBe(false);
    expect(loadConfig({ EMBEDDED_SHARED_BUFFERS_MB: '256' }).EMBEDDED_SHARED_BUFFERS_MB).toBe(256);
    const problem = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        return (e as ConfigError).message;
      }
      return 'accepted';
    };
    // PGlite's WebAssembly memory ends at 2 GB: a larger cache could not start.
    expect(problem({ EMBEDDED_SHARED_BUFFERS_MB: '2048' })).toMatch(
      /EMBEDDED_SHARED_BUFFERS_MB: expected at most 1024/,
    );
    expect(problem({ EMBEDDED_WORK_MEM_MB: '0' })).toMatch(/EMBEDDED_WORK_MEM_MB: expected at least 1/);
    expect(problem({ EMBEDDED_MAINTENANCE_WORK_MEM_MB: '64MB' })).toMatch(
      /EMBEDDED_MAINTENANCE_WORK_MEM_MB: expected a whole number/,
    );
  });

  it('says which rule a weak GATEHOUSE_ADMIN_PASSWORD breaks, without echoing it', () => {
    const weak = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        return (e as ConfigError).message;
      }
      return 'accepted';
    };
    const named = weak({ GATEHOUSE_ADMIN_USERNAME: 'root', GATEHOUSE_ADMIN_PASSWORD: 'my-root-password-2026' });
    expect(named).toMatch(/GATEHOUSE_ADMIN_PASSWORD: too weak: must not contain GATEHOUSE_ADMIN_USERNAME/);
    expect(named).not.toContain('my-root-password-2026');
    expect(weak({ GATEHOUSE_ADMIN_PASSWORD: ' '.repeat(14) })).toMatch(
      /GATEHOUSE_ADMIN_PASSWORD: too weak: not only white space/,
    );
    expect(weak({ GATEHOUSE_ADMIN_PASSWORD: 'Granite-willow-ember' })).toBe('accepted');
  });

  it('wants TLS certificate and key together, as files that exist', () => {
    expect(() => loadConfig({ TLS_CERT_FILE: '/etc/hostname' })).toThrow(
      /TLS_KEY_FILE: TLS_CERT_FILE and TLS_KEY_FILE/,
    );
    expect(() => loadConfig({ TLS_CERT_FILE: '/nope.pem', TLS_KEY_FILE: '/nope.key' })).toThrow(
      /TLS_CERT_FILE: file not found/,
    );
  });

  it('checks the SIEM receivers at start, naming the bad entry', () => {
    const config = loadConfig({
      AUDIT_FORWARD_URLS: 'syslog+tls://siem.hosp.test:6514, https://splunk.hosp.test:8088/services/collector',
      AUDIT_FORWARD_HEC_TOKEN: 'token',
    });
    expect(config.AUDIT_FORWARD_ALERT_MINUTES).toBe(15);
    expect(() => loadConfig({ AUDIT_FORWARD_URLS: 'syslog+tls://a:6514,syslog://b:514' })).toThrow(
      /AUDIT_FORWARD_URLS: "syslog:\/\/b:514": expected syslog\+tls:\/\/, syslog\+tcp:\/\/, syslog\+udp:\/\//,
    );
    expect(() => loadConfig({ AUDIT_FORWARD_URLS: 'syslog+tcp://a:514?format=leef' })).toThrow(
      /format must be cef or json/,
    );
    expect(() => loadConfig({ AUDIT_FORWARD_URLS: 'https://splunk:8088/services/collector' })).toThrow(
      /AUDIT_FORWARD_HEC_TOKEN: required when AUDIT_FORWARD_URLS has an https:\/\/ \(HTTP Event Collector\) receiver/,
    );
    const withPassword = () => loadConfig({ AUDIT_FORWARD_URLS: 'syslog+tls://user:hunter2@siem:6514' });
    expect(withPassword).toThrow(/put no credentials in the URL/);
    expect(withPassword).not.toThrow(/hunter2/);
  });

  it('checks the directory settings at start, naming each bad one', () => {
    expect(() => loadConfig({ LDAP_URL: 'http://dc1.hosp.test' })).toThrow(/LDAP_URL: expected ldaps:\/\/host/);
    const missing = () => loadConfig({ LDAP_URL: 'ldaps://dc1.hosp.test' });
    expect(missing).toThrow(/LDAP_BIND_DN: required when LDAP_URL is set/);
    expect(missing).toThrow(/LDAP_BIND_PASSWORD: required when LDAP_URL is set/);
    expect(missing).toThrow(/LDAP_BASE_DN: required when LDAP_URL is set/);
    expect(() => loadConfig({ LDAP_CA_FILE: '/etc/hostname' })).toThrow(/LDAP_CA_FILE: expected a PEM file/);
    expect(() => loadConfig({ LDAP_USER_FILTER: '(a=b)(c=d)' })).toThrow(/LDAP_USER_FILTER: invalid LDAP filter/);
    expect(() => loadConfig({ LDAP_BASE_DN: 'hospital' })).toThrow(/LDAP_BASE_DN: expected a distinguished name/);
    const ok = loadConfig({
      LDAP_URL: 'ldap://dc1.hosp.test:389',
      LDAP_BIND_DN: 'CN=svc,DC=hosp,DC=test',
      LDAP_BIND_PASSWORD: 'secret',
      LDAP_BASE_DN: 'DC=hosp,DC=test',
    });
    expect(ok).toMatchObject({ LDAP_TLS_INSECURE: false, LDAP_PAGE_SIZE: 500 });
  });

  it('wants SERVICENOW_URL over https with one way to sign in, and says which', () => {
    expect(() => loadConfig({ SERVICENOW_URL: 'http://sn.hosp.test' })).toThrow(
      /SERVICENOW_URL: expected an https:\/\/ URL/,
    );
    expect(() => loadConfig({ SERVICENOW_URL: 'https://sn.hosp.test' })).toThrow(
      /SERVICENOW_URL: needs SERVICENOW_USER and SERVICENOW_PASSWORD, or SERVICENOW_CLIENT_ID and SERVICENOW_CLIENT_SECRET/,
    );
    expect(() => loadConfig({ SERVICENOW_URL: 'https://sn.hosp.test', SERVICENOW_USER: 'gh' })).toThrow(
      /SERVICENOW_PASSWORD: SERVICENOW_USER and SERVICENOW_PASSWORD must be set together/,
    );
    expect(() => loadConfig({ SERVICENOW_CLIENT_ID: 'id', SERVICENOW_CLIENT_SECRET: 's' })).toThrow(
      /SERVICENOW_URL: required when SERVICENOW_CLIENT_ID is set/,
    );
    const both = {
      SERVICENOW_URL: 'https://sn.hosp.test',
      SERVICENOW_USER: 'gh',
      SERVICENOW_PASSWORD: 'pw',
      SERVICENOW_CLIENT_ID: 'id',
      SERVICENOW_CLIENT_SECRET: 's',
    };
    expect(() => loadConfig(both)).toThrow(/SERVICENOW_CLIENT_ID: set either/);
    expect(() => loadConfig({ SERVICENOW_CA_FILE: '/etc/hostname' })).toThrow(
      /SERVICENOW_CA_FILE: expected a PEM file/,
    );
    const ok = loadConfig({
      SERVICENOW_URL: 'https://sn.hosp.test/',
      SERVICENOW_CLIENT_ID: 'id',
      SERVICENOW_CLIENT_SECRET: 's',
    });
    expect(ok).toMatchObject({
      SERVICENOW_URL: 'https://sn.hosp.test',
      SERVICENOW_TIMEOUT_MS: 2000,
      SERVICENOW_CACHE_SECONDS: 60,
    });
  });

  it('takes METRICS_LISTEN as host:port on one interface, naming a bad value', () => {
    const problem = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        return (e as ConfigError).message;
      }
      return 'accepted';
    };
    expect(loadConfig({}).METRICS_LISTEN).toBeUndefined();
    expect(loadConfig({ METRICS_LISTEN: '10.0.0.5:9464' }).METRICS_LISTEN).toEqual({
      host: '10.0.0.5',
      port: 9464,
      wildcard: false,
      text: '10.0.0.5:9464',
    });
    expect(loadConfig({ METRICS_LISTEN: '[::1]:9464' }).METRICS_LISTEN).toMatchObject({ host: '::1', port: 9464 });
    expect(loadConfig({ METRICS_LISTEN: 'localhost:9464' }).METRICS_LISTEN).toMatchObject({ host: 'localhost' });
    for (const bad of ['9464', '10.0.0.5', 'http://10.0.0.5:9464', '::1:9464', '10.0.0.5:', 'a b:9464']) {
      expect(problem({ METRICS_LISTEN: bad })).toContain(
        `METRICS_LISTEN: expected host:port such as 127.0.0.1:9464, 10.0.0.5:9464 or [::1]:9464 (got '${bad}')`,
      );
    }
    expect(problem({ METRICS_LISTEN: '127.0.0.1:70000' })).toContain('METRICS_LISTEN: port 70000: expected 1 to 65535');
    expect(problem({ METRICS_LISTEN: '127.0.0.1:0' })).toContain('METRICS_LISTEN: port 0: expected 1 to 65535');
    // Every interface and no token: nothing would protect the metrics.
    for (const wildcard of ['0.0.0.0:9464', '[::]:9464']) {
      expect(problem({ METRICS_LISTEN: wildcard })).toContain(
        'METRICS_LISTEN: listens on every interface without METRICS_TOKEN',
      );
      expect(problem({ METRICS_LISTEN: wildcard, METRICS_TOKEN: 'a-metrics-token-0123456789' })).toBe('accepted');
    }
  });

  it('takes METRICS_DEVICE_GROUPS as a short list of device group names', () => {
    expect(loadConfig({}).METRICS_DEVICE_GROUPS).toEqual([]);
    expect(
      loadConfig({ METRICS_DEVICE_GROUPS: ' ct-scanners, mri-scanners,ct-scanners,' }).METRICS_DEVICE_GROUPS,
    ).toEqual(['ct-scanners', 'mri-scanners']);
    const problem = (value: string) => {
      try {
        loadConfig({ METRICS_DEVICE_GROUPS: value });
      } catch (e) {
        return (e as ConfigError).message;
      }
      return 'accepted';
    };
    expect(problem('ct-scanners,CT Scanners')).toContain("METRICS_DEVICE_GROUPS: bad device group name 'CT Scanners'");
    expect(problem('ct-scanners,other')).toContain("METRICS_DEVICE_GROUPS: 'other' is the label of devices in none");
    const many = Array.from({ length: 21 }, (_, i) => `group-${i}`).join(',');
    expect(problem(many)).toContain('METRICS_DEVICE_GROUPS: 21 groups: at most 20');
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(8080);
  });
});

describe('.env.example', () => {
  it('documents exactly the variables of the schema', async () => {
    const { readFileSync } = await import('node:fs');
    const { configSchema } = await import('./config.schema.js');
    const documented = readFileSync('.env.example', 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split('=')[0])
      .sort();
    const known = Object.keys(configSchema.in.shape).sort();
    expect(documented).toEqual(known);
  });
});
