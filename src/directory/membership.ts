/**
 * Nested group membership, resolved transitively. INVARIANT: terminates on cycles (AD allows
 * A ∈ B ∈ A): every walk keeps a visited set.
 */
export interface MembershipGraph {
  /** Group GUID → GUIDs of its direct members (users or groups). */
  directMembers: ReadonlyMap<string, readonly string[]>;
}

/** For each user GUID, every group GUID it belongs to directly or through nested groups. */
export function effectiveGroups(graph: MembershipGraph, userGuids: Iterable<string>): Map<string, Set<string>> {
  // Reverse edges: member → groups that list it.
  const parents = new Map<string, string[]>();
  for (const [group, members] of graph.directMembers) {
    for (const member of members) {
      const list = parents.get(member);
      if (list) list.push(group);
      else parents.set(member, [group]);
    }
  }
  const result = new Map<string, Set<string>>();
  for (const user of userGuids) {
    const reached = new Set<string>();
    const stack = [...(parents.get(user) ?? [])];
    while (stack.length > 0) {
      const group = stack.pop()!;
      if (reached.has(group)) continue;
      reached.add(group);
      for (const parent of parents.get(group) ?? []) if (!reached.has(parent)) stack.push(parent);
    }
    result.set(user, reached);
  }
  return result;
}
