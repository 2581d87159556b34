import { ConfigError, loadConfig, type AppConfig } from '../../config/config.schema.js';
import { failed, ok, reason, warning, type CheckResult } from './check.js';

const TITLE = 'Configuration';

/**
 * Validates the environment with the server's own schema (src/config/config.schema.ts), so
 * doctor and a start agree; one FAILED line per bad variable. Without a valid configuration
 * nothing else can be checked.
 */
export function checkConfiguration(env: NodeJS.ProcessEnv): { config?: AppConfig; results: CheckResult[] } {
  let config: AppConfig;
  try {
    config = loadConfig(env);
  } catch (error) {
    const problems = error instanceof ConfigError ? error.problems : [reason(error)];
    return {
      results: problems.map((problem) =>
        failed(
          TITLE,
          problem,
          `correct ${problem.split(':')[0]} where Gatehouse's environment is set (.env, the service unit or the container); .env.example describes each variable`,
        ),
      ),
    };
  }
  const results: CheckResult[] = [
    ok(
      TITLE,
      `every setting is valid; database: ${config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `embedded, in GATEHOUSE_DATA_DIR (${config.GATEHOUSE_DATA_DIR})`}`,
    ),
  ];
  // Allowed for labs; each is logged at every start too.
  if (config.LDAP_TLS_INSECURE) {
    results.push(
      warning(
        TITLE,
        "LDAP_TLS_INSECURE=true: the directory's certificate is not checked (labs only)",
        'set LDAP_CA_FILE to the CA that issued the directory certificate and remove LDAP_TLS_INSECURE',
      ),
    );
  }
  if (config.SMTP_URL && config.SMTP_ALLOW_PLAINTEXT) {
    results.push(
      warning(
        TITLE,
        'SMTP_ALLOW_PLAINTEXT=true: e-mail may travel unencrypted',
        'use a relay on the same host only, or remove SMTP_ALLOW_PLAINTEXT and use STARTTLS or smtps://',
      ),
    );
  }
  return { config, results };
}
