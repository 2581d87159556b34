export const MIN_PASSWORD_LENGTH = 12;

/**
 * The rules a new password breaks, each said plainly (empty: none). Used by the API and by the
 * start-up check of GATEHOUSE_ADMIN_PASSWORD, so both name the rule that failed.
 */
export function passwordProblems(password: string, username: string): string[] {
  const problems: string[] = [];
  if (password.length < MIN_PASSWORD_LENGTH) problems.push(`at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.trim().length === 0) problems.push('not only white space');
  if (password.toLowerCase().includes(username.toLowerCase())) problems.push('must not contain the user name');
  return problems;
}
