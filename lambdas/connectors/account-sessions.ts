import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { READ_ONLY_SOURCE_IDENTITY, type GovernedAccount } from '../domain/accounts.js';
import { AppError } from '../domain/reasons.js';
import { classifyAwsError } from './errors.js';
import type { ConnectorContext } from './types.js';

/** Which side of the hub asks: read-side roles may assume a member role only as READ_ONLY_SOURCE_IDENTITY. */
export type SessionAccess = 'read' | 'write';

/** Assumed credentials are renewed this long before they expire. */
const RENEW_BEFORE_MS = 5 * 60_000;
const SESSION_SECONDS = 3_600;
/** IAM's role session name: 2-64 of [\w+=,.@-]. */
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

interface Session {
  readonly context: ConnectorContext;
  readonly expiresAt: number;
}

/**
 * Connector contexts per governed account. The stack's own account uses the function's own
 * credentials; a member account, credentials from assuming its member role with the change id as
 * the session name (the member account's CloudTrail names the change), assumed once per account,
 * change and side, and reused while they are valid.
 */
export class AccountSessions {
  private readonly sessions = new Map<string, Promise<Session>>();

  constructor(
    private readonly home: ConnectorContext,
    private readonly sts: STSClient = new STSClient({ maxAttempts: 1 }),
    /** Region and endpoint of the clients made with assumed credentials; in Lambda, the environment's. */
    private readonly clientConfig: { readonly region?: string; readonly endpoint?: string } = {},
  ) {}

  /** The context connectors act in `account` with; CONNECTOR_ACCESS_DENIED naming the account when its role refuses. */
  async contextIn(account: GovernedAccount, sessionName: string, access: SessionAccess): Promise<ConnectorContext> {
    if (account.roleArn === null) return this.home;
    const name = sessionNameOf(sessionName);
    const key = `${account.roleArn}|${name}|${access}`;
    const cached = this.sessions.get(key);
    if (cached) {
      const session = await cached;
      if (session.expiresAt - RENEW_BEFORE_MS > this.home.now().getTime()) return session.context;
    }
    const fresh = this.assume(account, account.roleArn, name, access);
    this.sessions.set(key, fresh);
    fresh.catch(() => this.sessions.delete(key));
    return (await fresh).context;
  }

  private async assume(account: GovernedAccount, roleArn: string, sessionName: string, access: SessionAccess): Promise<Session> {
    let out;
    try {
      out = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: sessionName,
          DurationSeconds: SESSION_SECONDS,
          ...(access === 'read' ? { SourceIdentity: READ_ONLY_SOURCE_IDENTITY } : {}),
        }),
      );
    } catch (error) {
      const code = classifyAwsError(error);
      const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      // A role that is missing answers AccessDenied too: either way the account is not reachable.
      const reasonCode = code === 'TARGET_NOT_FOUND' || code === 'INPUT_INVALID' ? 'CONNECTOR_ACCESS_DENIED' : code;
      throw new AppError(reasonCode, `account ${account.id}: assuming ${roleArn} failed: ${cause}`, { cause: error, details: { account: account.id, roleArn } });
    }
    const credentials = out.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken) {
      throw new AppError('TARGET_UNAVAILABLE', `account ${account.id}: AssumeRole of ${roleArn} returned no credentials`, { details: { account: account.id, roleArn } });
    }
    const identity = { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey, sessionToken: credentials.SessionToken };
    const config = { ...this.clientConfig, maxAttempts: 1, credentials: identity };
    const expiresAt = credentials.Expiration?.getTime() ?? this.home.now().getTime() + SESSION_SECONDS * 1000;
    return { context: { iam: new IAMClient(config), secrets: new SecretsManagerClient(config), now: this.home.now }, expiresAt };
  }
}

function sessionNameOf(sessionName: string): string {
  if (!SESSION_NAME.test(sessionName)) throw new AppError('INPUT_INVALID', `"${sessionName}" cannot name an assumed-role session (2-64 of letters, digits and +=,.@-_)`);
  return sessionName;
}
