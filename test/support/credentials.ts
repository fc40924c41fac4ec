import { randomUUID } from 'node:crypto';
import {
  CreateLoginProfileCommand,
  CreateServiceSpecificCredentialCommand,
  GetLoginProfileCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListServiceSpecificCredentialsCommand,
  ListSigningCertificatesCommand,
  ListSSHPublicKeysCommand,
  UploadSigningCertificateCommand,
  UploadSSHPublicKeyCommand,
} from '@aws-sdk/client-iam';
import type { AwsClients } from '../../local/aws-clients.js';
import { CONSOLE_CONTAINMENT_DOCUMENT, CONSOLE_CONTAINMENT_POLICY_NAME } from '../../lambdas/connectors/iam/console-containment.js';
import { canonicalJson } from '../../lambdas/domain/canonical.js';

/**
 * A self-signed X.509 certificate for test users (CN=nhigov-test-signing-certificate, no private
 * key kept): IAM takes any well-formed PEM as a signing certificate. moto does not refuse the same
 * body on several users, so one serves every test.
 */
export const TEST_SIGNING_CERTIFICATE = `
-----BEGIN CERTIFICATE-----
MIIDNTCCAh2gAwIBAgIUKlDWURJN8kwXd9iPgmCCLhz257YwDQYJKoZIhvcNAQEL
BQAwKjEoMCYGA1UEAwwfbmhpZ292LXRlc3Qtc2lnbmluZy1jZXJ0aWZpY2F0ZTAe
Fw0yNjExMzAwNjE1NDZaFw0zNjExMjcwNjE1NDZaMCoxKDAmBgNVBAMMH25oaWdv
di10ZXN0LXNpZ25pbmctY2VydGlmaWNhdGUwggEiMA0GCSqGSIb3DQEBAQUAA4IB
DwAwggEKAoIBAQDHUTkPFX2pWvW9HFdxzwDn7uwgsvXzr/kCM2eymHHeRvsfp2Da
AeZ89WJ0WpCtp1FlNZX9T+WT9pHCTKYZVQrYVRReVFMJXXJ16oejFi19EBdEHjNf
QDSwoLYoJau4NDTfhi2SQEWhAte+V4SlRDqnDCWqM+UuJqNk6nJc2MCgEffWwSq7
DVctxBhgkP17iGgjUNhyKUk4rr82qgftBqmJbsaVnYZAkIccVIRq4YQAwxKSFZcu
zNJ8tEOmE2sv0OluVt/UDsMFT+/rHElTpLzi2VUQXAkxq+OBotjWMbkj2C+V8+MW
2us+KRQLI5wb50Gdl9UDWxwjQcclsLQPVltRAgMBAAGjUzBRMB0GA1UdDgQWBBQQ
UIlKnBT05tC1ZaSp39UAWI6CTjAfBgNVHSMEGDAWgBQQUIlKnBT05tC1ZaSp39UA
WI6CTjAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQBLwocG3T/B
H62huR9LPcuurINBwSCK9HXKn35MAUC0ik1Yq5ckByQoAW1S/6dqd8cHakT5Pv2F
nWxaSHnYknxWGqAFx3KWXYy9pLN2nzHXb0cgVRiQBHvL8VG20zFxfCJ3bNElMSpN
SpAsRBcspPRJyc5+d1DNdG0JefgnMmiHJ2COlREv2+dBmQeH0b6DzDRcKpLFFXFh
zIKi1+NbXGn8bi1dWNXiHXT6m172BJJUyvp4NvbKAC+MxM2DJ6JZd3mc8i8tjgIg
TU27a+2Sw/iS+Q/gtTlotOKCz3TvRz6FZONSdVgsTFRrRRzvG+2fudL43R6PGD3N
S/BGNlvH8FBq
-----END CERTIFICATE-----
`;

/** An SSH public key for test users (its private half was never kept). */
export const TEST_SSH_PUBLIC_KEY = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDR7qMx/4jEswW/CukwhZc6sTfSRzNWaV4fgjxjTiZm5LsNtQAWY049EB20TVprHEgd2Ax1WMF2Jk6vCfG6LK/4qcXpnWzy6SRqes/aqL5BZNiU0V3xnyCHzi28mfPrYpRJWP3NH9GUBv9lsN3beaNZxTkFj9DKbVqsz4euuN8MoEbNcJHUmSu/hMDpa+hjH6KmRfEDAwahmbbIQf+LfLH/JpP7a35UOPriR5I0Bd63mrWHwwxt1UKNknkV15s+zlTAuWgpFn8YIFiPf6DSLXBGJcmtlxuVQXSteQNyi9thL8Va7sDl1mQBlJIY7QTgTWZ40VTn/Pvsf4P9A/Zx9uF3 nhigov-test';

/** The ids of every long-term credential the helper gave a user besides access keys. */
export interface UserCredentialIds {
  readonly sshPublicKeyId: string;
  readonly certificateId: string;
  readonly serviceSpecificCredentialId: string;
}

/** Gives a user one of each: SSH public key, signing certificate, service-specific credential, console password. */
export async function addEveryCredential(clients: AwsClients, userName: string): Promise<UserCredentialIds> {
  const ssh = await clients.iam.send(new UploadSSHPublicKeyCommand({ UserName: userName, SSHPublicKeyBody: TEST_SSH_PUBLIC_KEY }));
  const certificate = await clients.iam.send(new UploadSigningCertificateCommand({ UserName: userName, CertificateBody: TEST_SIGNING_CERTIFICATE.trim() }));
  const service = await clients.iam.send(new CreateServiceSpecificCredentialCommand({ UserName: userName, ServiceName: 'codecommit.amazonaws.com' }));
  await clients.iam.send(new CreateLoginProfileCommand({ UserName: userName, Password: `Pw-${randomUUID()}` }));
  return {
    sshPublicKeyId: ssh.SSHPublicKey?.SSHPublicKeyId ?? '',
    certificateId: certificate.Certificate?.CertificateId ?? '',
    serviceSpecificCredentialId: service.ServiceSpecificCredential?.ServiceSpecificCredentialId ?? '',
  };
}

/** Every long-term credential of a user as moto holds it: status per id, whether it has a console password, whether that is contained. */
export async function credentialStates(clients: AwsClients, userName: string): Promise<{ statuses: Record<string, string>; loginProfile: boolean; consoleContained: boolean }> {
  const [ssh, certificates, service, keys] = await Promise.all([
    clients.iam.send(new ListSSHPublicKeysCommand({ UserName: userName })),
    clients.iam.send(new ListSigningCertificatesCommand({ UserName: userName })),
    clients.iam.send(new ListServiceSpecificCredentialsCommand({ UserName: userName })),
    clients.iam.send(new ListAccessKeysCommand({ UserName: userName })),
  ]);
  const statuses: Record<string, string> = Object.fromEntries([
    ...(ssh.SSHPublicKeys ?? []).map((k) => [k.SSHPublicKeyId ?? '', k.Status ?? '']),
    ...(certificates.Certificates ?? []).map((c) => [c.CertificateId ?? '', c.Status ?? '']),
    ...(service.ServiceSpecificCredentials ?? []).map((c) => [c.ServiceSpecificCredentialId ?? '', c.Status ?? '']),
    ...(keys.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId ?? '', k.Status ?? '']),
  ]);
  const loginProfile = await clients.iam.send(new GetLoginProfileCommand({ UserName: userName })).then(
    () => true,
    (error: unknown) => (error instanceof Error && /NoSuchEntity/.test(error.name) ? false : Promise.reject(error)),
  );
  const consoleContained = await clients.iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: CONSOLE_CONTAINMENT_POLICY_NAME })).then(
    (out) => canonicalJson(JSON.parse(decodeURIComponent(out.PolicyDocument ?? '{}'))) === canonicalJson(CONSOLE_CONTAINMENT_DOCUMENT),
    (error: unknown) => (error instanceof Error && /NoSuchEntity/.test(error.name) ? false : Promise.reject(error)),
  );
  return { statuses, loginProfile, consoleContained };
}
