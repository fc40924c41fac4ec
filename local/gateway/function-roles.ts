/**
 * Each hosted function calls AWS as its own role, as a Lambda function does: the local deploy
 * creates one IAM role per function in the emulator, this takes a session of it (STS
 * AssumeRole, session named as the function, as Lambda names it), and the gateway re-signs the
 * function's calls with that session's keys (request-signing.ts). So the emulator sees the
 * function's own identity: SQS's SenderId, CloudTrail's userIdentity.
 */
import { AssumeRoleCommand, type AssumeRoleCommandOutput } from '@aws-sdk/client-sts';

export interface FunctionRole {
  readonly arn: string;
  /** The role's unique id (AROA…): what SQS's SenderId and CloudTrail's principalId name. */
  readonly id: string;
}

export interface RoleSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
  readonly roleArn: string;
  readonly roleId: string;
  /** `<RoleId>:<session name>`. */
  readonly assumedRoleId: string;
  /** `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`. */
  readonly arn: string;
  readonly sessionName: string;
}

/** A session is taken again this long before it expires. */
const RENEW_BEFORE_MS = 5 * 60_000;
const SESSION_SECONDS = 3600;

/** What takes the sessions: the emulator's STS (an STSClient). */
export interface SessionIssuer {
  send(command: AssumeRoleCommand): Promise<AssumeRoleCommandOutput>;
}

export class FunctionSessions {
  private readonly sessions = new Map<string, Promise<RoleSession>>();

  constructor(
    /** STS of the emulator itself (not through the gateway: taking a session is not one of the function's calls). */
    private readonly sts: SessionIssuer,
    /** By function name (the physical name, as the host runs it). */
    private readonly roles: ReadonlyMap<string, FunctionRole>,
    private readonly clock: () => number = Date.now,
  ) {}

  has(functionName: string): boolean {
    return this.roles.has(functionName);
  }

  /** The function's current session: one AssumeRole per function until it nears its expiry, shared by concurrent callers. */
  async sessionOf(functionName: string): Promise<RoleSession> {
    const pending = this.sessions.get(functionName);
    if (pending) {
      const session = await pending;
      if (session.expiration.getTime() - RENEW_BEFORE_MS > this.clock()) return session;
      if (this.sessions.get(functionName) === pending) this.sessions.delete(functionName);
      return this.sessionOf(functionName);
    }
    const fresh = this.assume(functionName);
    this.sessions.set(functionName, fresh);
    // A failed AssumeRole is not kept: the next call tries again.
    fresh.catch(() => {
      if (this.sessions.get(functionName) === fresh) this.sessions.delete(functionName);
    });
    return fresh;
  }

  private async assume(functionName: string): Promise<RoleSession> {
    const role = this.roles.get(functionName);
    if (!role) throw new Error(`no local role for function ${functionName}`);
    const out = await this.sts.send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: functionName, DurationSeconds: SESSION_SECONDS }));
    const credentials = out.Credentials;
    const user = out.AssumedRoleUser;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration || !user?.AssumedRoleId || !user.Arn) {
      throw new Error(`the emulator's STS gave no session of ${role.arn}`);
    }
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
      expiration: credentials.Expiration,
      roleArn: role.arn,
      roleId: role.id,
      assumedRoleId: user.AssumedRoleId,
      arn: user.Arn,
      sessionName: functionName,
    };
  }
}
