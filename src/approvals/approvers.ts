import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { normalizeGroupRef } from '../directory/ldap-filter.js';
import { RolesService, type GroupIdentity } from '../users/roles.service.js';
import { approverGroupsOf, refusalFor, type Approver, type RequestForApprovers } from './approver-rights.js';

export interface EligibleApprover {
  userId: string;
  username: string;
  /** Where e-mail goes: the address set in Gatehouse, else the directory's `mail`. */
  email: string | null;
}

interface PersonRow {
  id: string;
  username: string;
  email: string | null;
  upn: string | null;
  mail: string | null;
  groups: GroupIdentity[];
}

const PERSON_COLUMNS = `u.id, u.username, u.email, du.upn, du.mail,
  COALESCE((SELECT json_agg(json_build_object('name', g.name, 'source', g.source, 'aliases', g.aliases))
              FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.user_id = u.id), '[]') AS groups`;

const approverOf = (p: PersonRow): Approver => ({
  identities: [p.username, p.email, p.upn, p.mail].filter((s): s is string => Boolean(s)).map((s) => s.toLowerCase()),
  groups: p.groups,
});

/** Who people are for approvals: their identities and groups, and who may decide a request. */
@Injectable()
export class Approvers {
  constructor(
    private readonly dataSource: DataSource,
    private readonly roles: RolesService,
  ) {}

  async approver(userId: string, m: EntityManager = this.dataSource.manager): Promise<Approver> {
    const [person] = await m.query<PersonRow[]>(
      `SELECT ${PERSON_COLUMNS} FROM users u LEFT JOIN directory_users du ON du.user_id = u.id WHERE u.id = $1`,
      [userId],
    );
    return person ? approverOf(person) : { identities: [], groups: [] };
  }

  refusal(approver: Approver, request: RequestForApprovers): string | undefined {
    return refusalFor(approver, request, this.roles);
  }

  /** The enabled people who may decide this request now (the same test as deciding). */
  async eligible(
    request: RequestForApprovers,
    m: EntityManager = this.dataSource.manager,
  ): Promise<EligibleApprover[]> {
    const refs = approverGroupsOf(request).map(normalizeGroupRef);
    if (refs.length === 0) return [];
    const people = await m.query<PersonRow[]>(
      `SELECT ${PERSON_COLUMNS} FROM users u LEFT JOIN directory_users du ON du.user_id = u.id
        WHERE NOT u.disabled AND u.id IN (
          SELECT gm.user_id FROM group_members gm JOIN groups g ON g.id = gm.group_id
           WHERE lower(g.name) = ANY($1) OR g.aliases && $1)
        ORDER BY u.username`,
      [refs],
    );
    return people
      .filter((p) => !this.refusal(approverOf(p), request))
      .map((p) => ({ userId: p.id, username: p.username, email: p.email ?? p.mail }));
  }
}
