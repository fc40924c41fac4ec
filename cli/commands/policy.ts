import type { CommandRegistrar } from '../main.js';
import { stackContext } from '../lib/context.js';
import { invokeCheckpoint } from '../lib/checkpoint-invoke.js';
import { isAppError } from '../../lambdas/domain/reasons.js';
import { OperationFailed, paint, table, UsageError, type CliIo } from '../lib/io.js';
import { generateKeyPairFiles, readInput, signPolicyFile, verifyPolicyFile, type TrustedKey, type VerifyResult } from '../lib/policy-files.js';
import { activatePolicy, policyStatus, type PolicyStatusDocument } from '../lib/policy-status.js';

export const registerPolicy: CommandRegistrar = (program, io) => {
  const policy = program.command('policy').description('the governance policy: a signed, versioned artifact');

  policy
    .command('keygen')
    .description('make an Ed25519 key pair: PREFIX.key (PEM, mode 0600) and PREFIX.pub')
    .requiredOption('--out <prefix>', 'where to write PREFIX.key and PREFIX.pub')
    .option('--force', 'replace an existing key pair')
    .action(async (options: { out: string; force?: boolean }) => {
      const out = io();
      const result = generateKeyPairFiles(options.out, { force: options.force === true });
      out.result(result, () => `wrote ${result.privateKeyFile} (private, mode 0600) and ${result.publicKeyFile} (key id ${result.keyId})`);
    });

  policy
    .command('sign')
    .description('validate FILE and write FILE.sig (version, keyId, signature, signedAt)')
    .argument('<file>', 'the policy YAML')
    .requiredOption('--key <file>', 'the Ed25519 private key (PREFIX.key)')
    .action(async (file: string, options: { key: string }) => {
      const out = io();
      const result = signPolicyFile(file, options.key);
      out.result(result, () => `signed ${result.file}: version ${result.version.slice(0, 12)} by key ${result.keyId} → ${result.signatureFile}`);
    });

  policy
    .command('verify')
    .description('exit 0 when FILE.sig is a valid signature of FILE by the key (default: the key the local runtime trusts), 1 with the reason otherwise')
    .argument('<file>', 'the policy YAML')
    .option('--pub <file>', 'the public key (PREFIX.pub); default: the key the stack\'s runtimes trust (its PolicyPublicKey output)')
    .action(async (file: string, options: { pub?: string }) => {
      const out = io();
      const trusted = options.pub ? { pem: readInput(options.pub, 'public key'), source: options.pub } : await stackTrustedKey();
      const result = verifyPolicyFile(file, trusted);
      out.result(result, () => renderVerify(out, result));
      if (!result.valid) throw new OperationFailed(`${file}: ${result.reason}`);
    });

  policy
    .command('activate')
    .description('make a signed policy the active version, recorded with who and when')
    .argument('<file>', 'the policy YAML (FILE.sig next to it)')
    .requiredOption('--as <email>', 'who activates it')
    .action(async (file: string, options: { as: string }) => {
      const out = io();
      const ctx = await stackContext();
      const mark = (await ctx.checkpoints.latest())?.body.policy ?? null;
      const result = await activatePolicy(ctx.policies, { file, as: options.as, trustedPublicKeyPem: ctx.outputs.policyPublicKeyPem, mark }).catch((error: unknown) => {
        // A valid signature the stack's history refuses: the file is fine, the operation is not (exit 1, not 2).
        if (isAppError(error) && error.details?.supersededBy) throw new OperationFailed(`POLICY_INVALID: ${error.message}`);
        throw error;
      });
      // Raise the high-water mark now: from then on no runtime accepts an older signed policy in the ACTIVE slot.
      if (result.activated) {
        await invokeCheckpoint(ctx, 'policy-activated').catch((error: unknown) =>
          out.info(`warning: the policy high-water mark was not raised now (${error instanceof Error ? error.message : String(error)}); the next checkpoint raises it`),
        );
      }
      for (const warning of result.warnings) out.info(`warning: ${warning}`);
      out.result(result, () =>
        result.activated
          ? `activated ${result.name} version ${result.version.slice(0, 12)} as ${result.activatedBy} at ${result.activatedAt}${result.supersedes ? ` (supersedes ${result.supersedes.slice(0, 12)})` : ''}`
          : `${result.name} version ${result.version.slice(0, 12)} is already active (since ${result.activatedAt}, by ${result.activatedBy})`,
      );
    });

  policy
    .command('status')
    .description('active version, who and when, previous versions, what each runtime last ran with, and lag')
    .action(async () => {
      const out = io();
      const ctx = await stackContext();
      const doc = await policyStatus(ctx.policies, ctx.outputs.policyPublicKeyPem, new Date(), (await ctx.checkpoints.latest())?.body.policy ?? null);
      out.result(doc, () => renderStatus(out, doc));
    });
};

/** The key the targeted stack's runtimes trust; without a stack, pass --pub. */
async function stackTrustedKey(): Promise<TrustedKey> {
  let ctx;
  try {
    ctx = await stackContext();
  } catch (error) {
    throw new UsageError(`no trusted key: ${error instanceof Error ? error.message : String(error)} (or pass --pub PREFIX.pub)`);
  }
  return { pem: ctx.outputs.policyPublicKeyPem, source: `stack ${ctx.target.stackName} (output PolicyPublicKey)` };
}

function renderVerify(out: CliIo, result: VerifyResult): string {
  if (!result.valid) return `${paint(out, 'red', 'INVALID')} ${result.file}: ${result.reason}`;
  return `${paint(out, 'green', 'valid')} ${result.file}: ${result.name} version ${result.version.slice(0, 12)}, signed ${result.signedAt} by key ${result.keyId} (trusted: ${result.trustedKeyFile})`;
}

function renderStatus(out: CliIo, doc: PolicyStatusDocument): string {
  const lines: string[] = [];
  const active = doc.active;
  if (!active) {
    lines.push(paint(out, 'red', 'no policy is active (nhigov policy activate FILE --as EMAIL)'));
  } else {
    lines.push(
      `active    ${paint(out, 'bold', active.version.slice(0, 12))}  ${active.name ?? '?'}  activated by ${active.activatedBy} at ${active.activatedAt}`,
      `signature ${active.valid ? paint(out, 'green', `valid (key ${active.keyId}, signed ${active.signedAt})`) : paint(out, 'red', `INVALID: ${active.reason} (runtimes refuse it: changes end FAILED with POLICY_INVALID)`)}`,
    );
    if (active.exemptions.length) {
      lines.push('', 'exemptions:', table(['nhi', 'ticket', 'approver', 'expires', 'state', 'reason'], active.exemptions.map((e) => [e.nhi, e.ticket, e.approver, e.expiresAt, e.inForce ? 'in force' : 'expired', e.reason])));
    }
  }
  lines.push('', doc.previous.length ? 'previous versions:' : 'no previous versions');
  if (doc.previous.length) lines.push(table(['version', 'name', 'activated by', 'activated at', 'superseded at'], doc.previous.map((p) => [p.version.slice(0, 12), p.name ?? '?', p.activatedBy, p.activatedAt, p.supersededAt ?? ''])));
  lines.push('', doc.runtimes.length ? 'runtimes:' : 'no runtime has loaded a policy yet');
  if (doc.runtimes.length) {
    lines.push(
      table(
        ['runtime', 'version', 'last seen', 'state', 'behind', 'since', 'refusal'],
        doc.runtimes.map((r) => [r.runtime, r.version.slice(0, 12), r.lastSeenAt, r.state, r.versionsBehind ?? '?', r.lagSince ? `${r.lagSince} (${formatSeconds(r.lagSeconds)})` : '', r.refusal ?? '']),
      ),
    );
  }
  if (doc.lagging > 0) lines.push('', paint(out, 'yellow', `${doc.lagging} runtime(s) not on the active version`));
  return lines.join('\n');
}

function formatSeconds(seconds: number | null): string {
  if (seconds === null) return '?';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}
