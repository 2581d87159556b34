/** A person as read from the directory. `guid` (objectGUID) is the identity; everything else may change. */
export interface DirectoryUser {
  guid: string;
  dn: string;
  /** sAMAccountName as written in the directory. */
  account: string;
  /** userPrincipalName, if any. */
  upn: string | null;
  displayName: string;
  mail: string | null;
  /** userAccountControl has ACCOUNTDISABLE (0x2). */
  disabled: boolean;
  usnChanged: number;
}

/** A group as read from the directory, with its direct members as GUIDs (users or groups). */
export interface DirectoryGroup {
  guid: string;
  dn: string;
  /** sAMAccountName (the name people use), else the CN. */
  name: string;
  cn: string;
  description: string;
  memberGuids: string[];
  usnChanged: number;
}

/** The whole directory in scope: what a full sync reads, or the stored copy with an incremental's changes applied. */
export interface DirectorySnapshot {
  users: Map<string, DirectoryUser>;
  groups: Map<string, DirectoryGroup>;
}

/** Where an incremental sync continues from. USNs are per domain controller, hence the server's name. */
export interface SyncCursor {
  /** dsServiceName of the DC that was read. */
  server: string;
  highestUsn: number;
  /** NetBIOS domain (for DOMAIN\user) and DNS domain (for user@domain), learned from the directory. */
  netbiosDomain: string | null;
  dnsDomain: string | null;
}

/** AD's GUID byte order (first three fields little-endian) to the usual text form. */
export function guidToString(bytes: Buffer): string {
  if (bytes.length !== 16) throw new Error(`objectGUID of ${bytes.length} bytes`);
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = [...bytes.subarray(from, to)];
    return (reverse ? part.reverse() : part).map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}
