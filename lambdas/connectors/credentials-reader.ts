import { GetLoginProfileCommand, ListServiceSpecificCredentialsCommand, ListSigningCertificatesCommand, ListSSHPublicKeysCommand } from '@aws-sdk/client-iam';
import type { CredentialStatus, UserCredentialSnapshot } from '../domain/snapshot.js';
import { mapBounded } from '../lib/map-bounded.js';
import { classifyAwsError, connectorStep } from './errors.js';
import { isNoSuchEntity } from './iam/principal.js';
import type { ConnectorContext } from './types.js';
import type { CredentialReportRow } from './credential-report.js';

/** What the credential read calls: the snapshot's role must hold these. */
export const CREDENTIAL_READ_PERMISSIONS = ['iam:ListSSHPublicKeys', 'iam:ListSigningCertificates', 'iam:ListServiceSpecificCredentials', 'iam:GetLoginProfile'] as const;

export interface UserCredentials {
  readonly credentials: UserCredentialSnapshot[];
  readonly loginProfile: boolean;
}

const statusOf = (status: string | undefined): CredentialStatus => (status === 'Active' ? 'Active' : 'Inactive');

/**
 * Every long-term credential of the named users besides access keys. Service-specific credentials
 * are listed for all users at once (ListServiceSpecificCredentials AllUsers, paginated); SSH public
 * keys, signing certificates and the console password have no account-wide read that is current
 * (the credential report can be four hours old), so they are read per user: three calls each.
 * Given the report (a read of the whole account), a user it names costs one call (its SSH keys),
 * two when it shows an active certificate.
 */
export async function readUserCredentials(ctx: ConnectorContext, userNames: readonly string[], concurrency: number, report: ReadonlyMap<string, CredentialReportRow> | null = null): Promise<Map<string, UserCredentials>> {
  if (userNames.length === 0) return new Map();
  const wanted = new Set(userNames);
  const serviceSpecific = await readServiceSpecificCredentials(ctx, wanted);
  const perUser = await mapBounded(userNames, concurrency, async (userName) => {
    // A user the credential report names: its console password from the report, its certificates listed only when one is active.
    const row = report?.get(userName);
    const [ssh, certificates, loginProfile] = await Promise.all([
      readSshKeys(ctx, userName),
      row && !row.activeCertificate ? Promise.resolve([]) : readCertificates(ctx, userName),
      row ? Promise.resolve(row.passwordEnabled) : readLoginProfile(ctx, userName),
    ]);
    const credentials = [...ssh, ...certificates, ...(serviceSpecific.get(userName) ?? [])].sort((a, b) => a.type.localeCompare(b.type) || a.id.localeCompare(b.id));
    return [userName, { credentials, loginProfile }] as const;
  });
  return new Map(perUser);
}

async function readSshKeys(ctx: ConnectorContext, userName: string): Promise<UserCredentialSnapshot[]> {
  const out = await connectorStep(`listing SSH public keys of ${userName}`, classifyAwsError, () => ctx.iam.send(new ListSSHPublicKeysCommand({ UserName: userName, MaxItems: 1000 })));
  return (out.SSHPublicKeys ?? []).flatMap((k) => (k.SSHPublicKeyId ? [{ type: 'sshPublicKey' as const, id: k.SSHPublicKeyId, userName, status: statusOf(k.Status) }] : []));
}

async function readCertificates(ctx: ConnectorContext, userName: string): Promise<UserCredentialSnapshot[]> {
  const out = await connectorStep(`listing signing certificates of ${userName}`, classifyAwsError, () => ctx.iam.send(new ListSigningCertificatesCommand({ UserName: userName, MaxItems: 1000 })));
  return (out.Certificates ?? []).flatMap((c) => (c.CertificateId ? [{ type: 'signingCertificate' as const, id: c.CertificateId, userName, status: statusOf(c.Status) }] : []));
}

async function readLoginProfile(ctx: ConnectorContext, userName: string): Promise<boolean> {
  return connectorStep(`reading the login profile of ${userName}`, classifyAwsError, async () => {
    try {
      await ctx.iam.send(new GetLoginProfileCommand({ UserName: userName }));
      return true;
    } catch (error) {
      // The user was listed by the same read: NoSuchEntity here is the login profile's.
      if (isNoSuchEntity(error)) return false;
      throw error;
    }
  });
}

async function readServiceSpecificCredentials(ctx: ConnectorContext, wanted: ReadonlySet<string>): Promise<Map<string, UserCredentialSnapshot[]>> {
  const byUser = new Map<string, UserCredentialSnapshot[]>();
  let marker: string | undefined;
  do {
    const page = await connectorStep('listing service-specific credentials', classifyAwsError, () =>
      ctx.iam.send(new ListServiceSpecificCredentialsCommand({ AllUsers: true, Marker: marker, MaxItems: 1000 })),
    );
    for (const c of page.ServiceSpecificCredentials ?? []) {
      if (!c.UserName || !c.ServiceSpecificCredentialId || !wanted.has(c.UserName)) continue;
      const list = byUser.get(c.UserName) ?? [];
      list.push({ type: 'serviceSpecificCredential', id: c.ServiceSpecificCredentialId, userName: c.UserName, status: statusOf(c.Status) });
      byUser.set(c.UserName, list);
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return byUser;
}
