/** Live state of the governed estate (tag nhi-governed=true), as read in bulk. Pure data. */
export type Tags = Readonly<Record<string, string>>;

export interface AccessKeySnapshot {
  readonly accessKeyId: string;
  readonly userName: string;
  readonly status: 'Active' | 'Inactive';
  readonly createdAt: string;
  /** null: never used. */
  readonly lastUsedAt: string | null;
}

/**
 * One access key of a user as the IAM credential report shows it (a slot: access_key_1, _2). The
 * report names no AccessKeyId and can be hours old: enough to tell which users may need an action,
 * never enough to act.
 */
export interface ReportedAccessKey {
  readonly active: boolean;
  /** When the key was created (the report's "last rotated"); null: the report does not say. */
  readonly createdAt: string | null;
  /** null: never used, or the report does not say. */
  readonly lastUsedAt: string | null;
}

export interface InlinePolicySnapshot {
  readonly name: string;
  /** The policy document as JSON (kept so the inverse can re-put it). */
  readonly document: Readonly<Record<string, unknown>>;
}

export interface AttachedPolicySnapshot {
  readonly policyArn: string;
  readonly policyName: string;
}

/** IAM keeps at most this many versions of a managed policy: one more can be made only by deleting one. */
export const MAX_MANAGED_POLICY_VERSIONS = 5;

/** A customer-managed policy of the account, as the bulk read shows it. */
export interface ManagedPolicySnapshot {
  readonly arn: string;
  readonly name: string;
  readonly defaultVersionId: string;
  /** The default version's document. */
  readonly document: Readonly<Record<string, unknown>>;
  /** How many versions it has (IAM keeps at most MAX_MANAGED_POLICY_VERSIONS). */
  readonly versionCount: number;
  /** How many users, groups and roles it is attached to. */
  readonly attachmentCount: number;
  /** How many users and roles it bounds as their permissions boundary. */
  readonly boundaryUsageCount: number;
}

/** The long-term credentials of a user besides access keys and the console password. */
export type UserCredentialType = 'sshPublicKey' | 'signingCertificate' | 'serviceSpecificCredential';
export const USER_CREDENTIAL_TYPES: readonly UserCredentialType[] = ['sshPublicKey', 'signingCertificate', 'serviceSpecificCredential'];
export type CredentialStatus = 'Active' | 'Inactive';

export interface UserCredentialSnapshot {
  readonly type: UserCredentialType;
  /** SSHPublicKeyId, CertificateId, ServiceSpecificCredentialId. */
  readonly id: string;
  readonly userName: string;
  readonly status: CredentialStatus;
}

export interface UserSnapshot {
  readonly type: 'user';
  readonly name: string;
  readonly arn: string;
  readonly tags: Tags;
  readonly accessKeys: readonly AccessKeySnapshot[];
  readonly attachedPolicies: readonly AttachedPolicySnapshot[];
  readonly inlinePolicies: readonly InlinePolicySnapshot[];
  readonly groups: readonly string[];
  /** SSH public keys, signing certificates, service-specific credentials; undefined: not read (out of scope). */
  readonly credentials?: readonly UserCredentialSnapshot[];
  /** The user has a console password; undefined: not read (out of scope). */
  readonly loginProfile?: boolean;
  /**
   * Set when the user's access keys were not read one by one but taken from the credential report
   * (the first, bulk pass of a reconcile of a whole account): `accessKeys` is then empty and means
   * not read. undefined: `accessKeys` is what ListAccessKeys said (or, out of scope, not read).
   */
  readonly reportedKeys?: readonly ReportedAccessKey[];
}

export interface RoleSnapshot {
  readonly type: 'role';
  readonly name: string;
  readonly arn: string;
  readonly tags: Tags;
  readonly attachedPolicies: readonly AttachedPolicySnapshot[];
  readonly inlinePolicies: readonly InlinePolicySnapshot[];
}

export interface SecretSnapshot {
  readonly type: 'secret';
  readonly name: string;
  readonly arn: string;
  readonly tags: Tags;
  /** VersionId that carries the AWSCURRENT stage, if any. */
  readonly currentVersionId: string | null;
  /**
   * For a secret tagged nhigov:kind=iam-access-key: the AccessKeyId its AWSCURRENT value names
   * (never the secret part). undefined: not read (out of scope); null: the value names no key.
   */
  readonly heldAccessKeyId?: string | null;
  readonly lastRotatedAt: string | null;
  readonly lastChangedAt: string | null;
  readonly createdAt: string | null;
}

export type NhiSnapshot = UserSnapshot | RoleSnapshot | SecretSnapshot;

export interface UngovernedPrincipal {
  readonly type: 'user' | 'role';
  readonly name: string;
  readonly arn: string;
  readonly tags: Tags;
}

export interface Snapshot {
  readonly takenAt: string;
  readonly users: readonly UserSnapshot[];
  readonly roles: readonly RoleSnapshot[];
  readonly secrets: readonly SecretSnapshot[];
  /**
   * Users and roles the bulk read saw without nhi-governed=true (name and tags only): how a
   * reconcile tells an NHI taken out of governance from one deleted. Absent: not read.
   */
  readonly ungoverned?: readonly UngovernedPrincipal[];
  /** IAM groups with their inline policies (what a membership grants); absent: not read. */
  readonly groups?: readonly GroupSnapshot[];
  /** The account's customer-managed policies with their default documents; absent: not read. */
  readonly managedPolicies?: readonly ManagedPolicySnapshot[];
  /**
   * Set by a reconcile of a whole account (handlers/core/planning-read.ts): per-identity detail was
   * read only for the NHIs that may need action; the other users carry `reportedKeys`, the other
   * key secrets no held key. Absent: every NHI in scope was read one by one.
   */
  readonly detailFromReport?: boolean;
}

export interface GroupSnapshot {
  readonly name: string;
  readonly inlinePolicies: readonly InlinePolicySnapshot[];
  /** The managed policies attached to the group; absent: not read. */
  readonly attachedPolicies?: readonly AttachedPolicySnapshot[];
}

export const GOVERNED_TAG = 'nhi-governed';
export const OWNER_TAG = 'owner';
export const ENV_TAG = 'env';
export const SECRET_KIND_TAG = 'nhigov:kind';
export const SECRET_USER_TAG = 'nhigov:user';
export const SECRET_KIND_ACCESS_KEY = 'iam-access-key';

export function holdsAccessKey(secret: SecretSnapshot): boolean {
  return secret.tags[SECRET_KIND_TAG] === SECRET_KIND_ACCESS_KEY && Boolean(secret.tags[SECRET_USER_TAG]);
}

/**
 * In a snapshot whose detail comes partly from the credential report: true when a rule cannot judge
 * this NHI's per-identity state, a user whose keys only the report gave or whose other credentials
 * were not read, a key secret whose held key was not read. Rules treat it as an NHI that may need
 * action, so that it is read one by one before the plan is made.
 */
export function detailNotRead(snapshot: Snapshot, nhi: NhiSnapshot): boolean {
  if (!snapshot.detailFromReport) return false;
  if (nhi.type === 'user') return nhi.reportedKeys !== undefined || nhi.credentials === undefined;
  if (nhi.type === 'secret') return holdsAccessKey(nhi) && nhi.heldAccessKeyId === undefined;
  return false;
}

export function isGoverned(nhi: { tags: Tags }): boolean {
  return nhi.tags[GOVERNED_TAG] === 'true';
}

export function ownerOf(nhi: { tags: Tags }): string | null {
  const owner = nhi.tags[OWNER_TAG];
  return owner ? owner.trim().toLowerCase() : null;
}

export function isProd(nhi: { tags: Tags }): boolean {
  return nhi.tags[ENV_TAG] === 'prod';
}

export function allNhis(snapshot: Snapshot): NhiSnapshot[] {
  return [...snapshot.users, ...snapshot.roles, ...snapshot.secrets];
}

/** Finds an NHI by name or ARN. More than one match (a user and a role of one name) is ambiguous. */
export function findNhi(snapshot: Snapshot, ref: string): { match: NhiSnapshot | null; ambiguous: boolean } {
  const matches = allNhis(snapshot).filter((nhi) => nhi.arn === ref || nhi.name === ref);
  if (matches.length > 1) return { match: null, ambiguous: true };
  return { match: matches[0] ?? null, ambiguous: false };
}

interface SnapshotIndex {
  readonly keys: ReadonlyMap<string, AccessKeySnapshot>;
  /** `${type}:${id}` → credential. */
  readonly credentials: ReadonlyMap<string, UserCredentialSnapshot>;
  readonly users: ReadonlyMap<string, UserSnapshot>;
  readonly roles: ReadonlyMap<string, RoleSnapshot>;
  readonly secrets: ReadonlyMap<string, SecretSnapshot>;
  readonly managedPolicies: ReadonlyMap<string, ManagedPolicySnapshot>;
}

/** Snapshots are immutable values: their lookup index is built once per snapshot and cached. */
const indexes = new WeakMap<Snapshot, SnapshotIndex>();

function indexOf(snapshot: Snapshot): SnapshotIndex {
  let index = indexes.get(snapshot);
  if (!index) {
    const secrets = new Map<string, SecretSnapshot>();
    for (const secret of snapshot.secrets) {
      if (!secrets.has(secret.name)) secrets.set(secret.name, secret);
      secrets.set(secret.arn, secret);
    }
    index = {
      keys: new Map(snapshot.users.flatMap((u) => u.accessKeys.map((k) => [k.accessKeyId, k] as const))),
      credentials: new Map(snapshot.users.flatMap((u) => (u.credentials ?? []).map((c) => [`${c.type}:${c.id}`, c] as const))),
      users: new Map(snapshot.users.map((u) => [u.name, u])),
      roles: new Map(snapshot.roles.map((r) => [r.name, r])),
      secrets,
      managedPolicies: new Map((snapshot.managedPolicies ?? []).map((p) => [p.arn, p])),
    };
    indexes.set(snapshot, index);
  }
  return index;
}

export function findAccessKey(snapshot: Snapshot, accessKeyId: string): AccessKeySnapshot | null {
  return indexOf(snapshot).keys.get(accessKeyId) ?? null;
}

export function findUserCredential(snapshot: Snapshot, type: UserCredentialType, id: string): UserCredentialSnapshot | null {
  return indexOf(snapshot).credentials.get(`${type}:${id}`) ?? null;
}

export function findPrincipal(snapshot: Snapshot, type: 'user' | 'role', name: string): UserSnapshot | RoleSnapshot | null {
  return (type === 'user' ? indexOf(snapshot).users.get(name) : indexOf(snapshot).roles.get(name)) ?? null;
}

/** A secret by name or ARN. */
export function findSecret(snapshot: Snapshot, id: string): SecretSnapshot | null {
  return indexOf(snapshot).secrets.get(id) ?? null;
}

/** A customer-managed policy by ARN; null when the snapshot has none (an AWS managed policy, or not read). */
export function findManagedPolicy(snapshot: Snapshot, arn: string): ManagedPolicySnapshot | null {
  return indexOf(snapshot).managedPolicies.get(arn) ?? null;
}
