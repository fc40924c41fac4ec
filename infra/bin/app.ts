/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy` (cdk.json runs this file with tsx).
 * Settings come from CDK context (infra/lib/config.ts lists them); cdk-nag's AwsSolutions
 * checks run on every synth and fail it on any unacknowledged finding.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseDeployConfig } from '../lib/config.js';
import { NhiGovernorMemberStack } from '../lib/member-stack.js';
import { NhiGovernorStack } from '../lib/stack.js';

const app = new App();
const config = parseDeployConfig((key) => app.node.tryGetContext(key));
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'NhiGovernor';
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

new NhiGovernorStack(app, stackName, {
  config,
  // Environment-agnostic unless the CLI knows the target account (deploy with credentials).
  ...(account && region ? { env: { account, region } } : {}),
});
// Deployed into each member account (a StackSet for an OU: docs/accounts.md); its template takes
// the hub account as the HubAccountId parameter, so it carries no account of its own.
const memberRoleName: unknown = app.node.tryGetContext('memberRoleName');
new NhiGovernorMemberStack(app, 'NhiGovernorMember', {
  ...(typeof memberRoleName === 'string' ? { roleName: memberRoleName } : {}),
  ...(config.governedGroupPath !== '/' ? { groupPath: config.governedGroupPath } : {}),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
