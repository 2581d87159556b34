/** "1 live access", "3 live accesses": a count with its noun in the right number, never "access(es)". */
export function counted(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}
