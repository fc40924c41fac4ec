import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { AwsClients } from '../../local/aws-clients.js';
import { putEvent } from '../../cli/commands/event.js';
import { waitForChange, type ShowDocument } from '../../cli/lib/changes.js';
import type { StackContext } from '../../cli/lib/context.js';
import { parseGovernanceEvent } from '../../lambdas/domain/events.js';

/** A unique suffix so tests sharing a stack never touch each other's NHIs. */
export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function ownerEmail(label = 'owner'): string {
  return `${unique(label)}@example.com`;
}

export function governedTags(owner: string | null, env: 'prod' | 'dev' = 'dev') {
  return [{ Key: 'nhi-governed', Value: 'true' }, ...(owner ? [{ Key: 'owner', Value: owner }] : []), { Key: 'env', Value: env }];
}

/** Creates a governed IAM user with `keys` active access keys; returns the key ids (and secrets, for rotation tests). */
export async function createGovernedUser(
  clients: Pick<AwsClients, 'iam'>,
  options: { owner: string | null; env?: 'prod' | 'dev'; keys?: number; name?: string },
): Promise<{ userName: string; keyIds: string[]; keys: Array<{ AccessKeyId: string; SecretAccessKey: string }> }> {
  const userName = options.name ?? unique('svc');
  await clients.iam.send(new CreateUserCommand({ UserName: userName, Tags: governedTags(options.owner, options.env) }));
  const keys: Array<{ AccessKeyId: string; SecretAccessKey: string }> = [];
  for (let i = 0; i < (options.keys ?? 1); i += 1) {
    const out = await clients.iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    keys.push({ AccessKeyId: out.AccessKey?.AccessKeyId ?? '', SecretAccessKey: out.AccessKey?.SecretAccessKey ?? '' });
  }
  return { userName, keyIds: keys.map((k) => k.AccessKeyId), keys };
}

export async function createGovernedRole(clients: Pick<AwsClients, 'iam'>, options: { owner: string | null; env?: 'prod' | 'dev'; name?: string }): Promise<string> {
  const roleName = options.name ?? unique('role');
  await clients.iam.send(
    new CreateRoleCommand({
      RoleName: roleName,
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
      Tags: governedTags(options.owner, options.env),
    }),
  );
  return roleName;
}

/** A governed secret holding an IAM access key of `userName`. */
export async function createKeySecret(clients: AwsClients, options: { owner: string; userName: string; key: { AccessKeyId: string; SecretAccessKey: string }; env?: 'prod' | 'dev' }): Promise<string> {
  const name = unique('secret');
  await clients.secrets.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: JSON.stringify(options.key),
      Tags: [...governedTags(options.owner, options.env), { Key: 'nhigov:kind', Value: 'iam-access-key' }, { Key: 'nhigov:user', Value: options.userName }],
    }),
  );
  return name;
}

export async function keyStatuses(clients: Pick<AwsClients, 'iam'>, userName: string): Promise<Record<string, string>> {
  const out = await clients.iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return Object.fromEntries((out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId ?? '', k.Status ?? '']));
}

/** Writes an event file for `nhigov event FILE`. */
export function eventFile(dir: string, event: { id?: string; source: string; 'detail-type': string; detail: unknown }): string {
  const file = path.join(dir, `${unique('event')}.json`);
  writeFileSync(file, JSON.stringify({ id: event.id ?? unique('evt'), ...event }));
  return file;
}

export function terminationEvent(email: string, extra: Record<string, unknown> = {}) {
  return { id: unique('term'), source: 'hr.system', 'detail-type': 'Employee Terminated', detail: { employeeId: unique('emp'), email, ...extra } };
}

/** Puts `owner`'s termination on the bus through the CLI's library and waits until its change settles. */
export async function runTermination(ctx: StackContext, owner: string, timeoutMs = 90_000): Promise<ShowDocument> {
  const parsed = parseGovernanceEvent(terminationEvent(owner));
  if (!parsed.ok) throw new Error(parsed.error);
  const { changeId } = await putEvent(ctx, parsed.event);
  const { doc, settled } = await waitForChange(ctx, changeId, timeoutMs);
  if (!doc || !settled) throw new Error(`change ${changeId} did not settle`);
  return doc;
}
