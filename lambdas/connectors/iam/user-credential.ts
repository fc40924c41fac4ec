import { z } from 'zod';
import {
  ListServiceSpecificCredentialsCommand,
  ListSigningCertificatesCommand,
  ListSSHPublicKeysCommand,
  UpdateServiceSpecificCredentialCommand,
  UpdateSigningCertificateCommand,
  UpdateSSHPublicKeyCommand,
} from '@aws-sdk/client-iam';
import { AppError } from '../../domain/reasons.js';
import type { JsonObject } from '../../domain/plan-model.js';
import { findUserCredential, type CredentialStatus, type UserCredentialType } from '../../domain/snapshot.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';
import { userName } from './access-key-status.js';

/**
 * The long-term credentials of an IAM user besides access keys and the console password, each
 * with an Active/Inactive status of its own: SSH public keys (CodeCommit), X.509 signing
 * certificates, service-specific credentials (CodeCommit HTTPS, Bedrock API keys).
 */
interface CredentialApi {
  /** Words for messages: "SSH public key". */
  readonly noun: string;
  readonly idPattern: RegExp;
  readonly listPermission: string;
  readonly updatePermission: string;
  list(ctx: ConnectorContext, user: string): Promise<Map<string, CredentialStatus>>;
  update(ctx: ConnectorContext, user: string, id: string, status: CredentialStatus): Promise<void>;
}

const statusOf = (status: string | undefined): CredentialStatus => (status === 'Active' ? 'Active' : 'Inactive');

/** Each list call answers one page of at most 1,000: IAM's quotas allow far fewer per user (5, 2, 2 per service). */
const PAGE = 1000;

export const CREDENTIAL_APIS: Readonly<Record<UserCredentialType, CredentialApi>> = {
  sshPublicKey: {
    noun: 'SSH public key',
    idPattern: /^\w{20,128}$/,
    listPermission: 'iam:ListSSHPublicKeys',
    updatePermission: 'iam:UpdateSSHPublicKey',
    async list(ctx, user) {
      const out = await ctx.iam.send(new ListSSHPublicKeysCommand({ UserName: user, MaxItems: PAGE }));
      return new Map((out.SSHPublicKeys ?? []).flatMap((k) => (k.SSHPublicKeyId ? [[k.SSHPublicKeyId, statusOf(k.Status)] as const] : [])));
    },
    async update(ctx, user, id, status) {
      await ctx.iam.send(new UpdateSSHPublicKeyCommand({ UserName: user, SSHPublicKeyId: id, Status: status }));
    },
  },
  signingCertificate: {
    noun: 'signing certificate',
    idPattern: /^\w{24,128}$/,
    listPermission: 'iam:ListSigningCertificates',
    updatePermission: 'iam:UpdateSigningCertificate',
    async list(ctx, user) {
      const out = await ctx.iam.send(new ListSigningCertificatesCommand({ UserName: user, MaxItems: PAGE }));
      return new Map((out.Certificates ?? []).flatMap((c) => (c.CertificateId ? [[c.CertificateId, statusOf(c.Status)] as const] : [])));
    },
    async update(ctx, user, id, status) {
      await ctx.iam.send(new UpdateSigningCertificateCommand({ UserName: user, CertificateId: id, Status: status }));
    },
  },
  serviceSpecificCredential: {
    noun: 'service-specific credential',
    idPattern: /^\w{20,128}$/,
    listPermission: 'iam:ListServiceSpecificCredentials',
    updatePermission: 'iam:UpdateServiceSpecificCredential',
    async list(ctx, user) {
      const out = await ctx.iam.send(new ListServiceSpecificCredentialsCommand({ UserName: user }));
      return new Map((out.ServiceSpecificCredentials ?? []).flatMap((c) => (c.ServiceSpecificCredentialId ? [[c.ServiceSpecificCredentialId, statusOf(c.Status)] as const] : [])));
    },
    async update(ctx, user, id, status) {
      await ctx.iam.send(new UpdateServiceSpecificCredentialCommand({ UserName: user, ServiceSpecificCredentialId: id, Status: status }));
    },
  },
};

export function userCredentialParams(type: UserCredentialType) {
  return z.strictObject({ userName, credentialId: z.string().regex(CREDENTIAL_APIS[type].idPattern, `a ${CREDENTIAL_APIS[type].noun} id`) });
}
export type UserCredentialParams = { userName: string; credentialId: string };

/** One credential's status, read back through its list call (no Get* answers the status alone). */
export async function readCredentialStatus(type: UserCredentialType, ctx: ConnectorContext, params: UserCredentialParams): Promise<JsonObject> {
  const api = CREDENTIAL_APIS[type];
  return connectorStep(`reading ${api.noun} (${params.credentialId})`, classifyAwsError, async () => {
    const status = (await api.list(ctx, params.userName)).get(params.credentialId);
    if (!status) throw new AppError('TARGET_NOT_FOUND', `reading ${api.noun} (${params.credentialId}): no such credential on user ${params.userName}`);
    return { status };
  });
}

/**
 * Builds the deactivate / reactivate pair of one credential type: each is the other's inverse.
 * Updating to the status it already has is a no-op in IAM: the write is idempotent as is.
 */
export function credentialStatusAction(type: UserCredentialType, kind: string, status: CredentialStatus, inverseKind: string): ConnectorAction<UserCredentialParams> {
  const api = CREDENTIAL_APIS[type];
  const verb = status === 'Inactive' ? 'deactivating' : 'reactivating';
  const read = (ctx: ConnectorContext, params: UserCredentialParams) => readCredentialStatus(type, ctx, params);
  return {
    kind,
    description: `${verb} ${api.noun}`,
    irreversible: false,
    targetType: 'credential',
    schema: userCredentialParams(type),
    permissions: { read: [api.listPermission], write: [api.updatePermission] },
    label: (p) => p.credentialId,
    beforeFromSnapshot(params, snapshot) {
      const found = typeof params.credentialId === 'string' ? findUserCredential(snapshot, type, params.credentialId) : null;
      return found ? { status: found.status } : null;
    },
    desiredState: () => ({ status }),
    inverse: (params) => ({ kind: inverseKind, params }),
    read,
    async write(ctx, params) {
      await connectorStep(`${verb} ${api.noun} (${params.credentialId})`, classifyAwsError, () => api.update(ctx, params.userName, params.credentialId, status));
    },
    verify: (ctx, params, after) => verifyByReadBack(read, ctx, params, after),
    classify: classifyAwsError,
  };
}
