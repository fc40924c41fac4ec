/**
 * Builds the stack the way `cdk synth` does (cdk.json's feature flags, the same context keys)
 * once per test file. Bundling is skipped unless asked for: the template is the same apart from
 * asset hashes, and esbuild for every handler is the slow part.
 */
import { readFileSync, rmSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll } from 'vitest';
import { parseDeployConfig, type ContextKey } from '../../../infra/lib/config.js';
import { fromRoot } from '../../../infra/lib/paths.js';
import { NhiGovernorStack, SHARED_DEFINITIONS, type StackDefinitions } from '../../../infra/lib/stack.js';

/** An Ed25519 public key (its private half was thrown away): any valid key will do here. */
export const TEST_POLICY_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAlFo+gxxPNaexzS5tOCaQW8qpEyvvtoRfn5WvHRRUXj8=
-----END PUBLIC KEY-----
`;

/** The context of a realistic deploy: every optional setting given. */
export const TEST_CONTEXT: Readonly<Partial<Record<ContextKey, unknown>>> = {
  prefix: 'nhigov',
  eventBusName: 'governance',
  oktaEventSourceName: 'aws.partner/okta.com/example-org/nhigov',
  sesSender: 'nhigov@example.com',
  approverEmails: 'approver@example.com,secops@example.com',
  policyPublicKey: TEST_POLICY_PUBLIC_KEY,
  alarmEmail: 'oncall@example.com',
};

export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(fromRoot('cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface BuiltStack {
  readonly app: App;
  readonly stack: NhiGovernorStack;
  readonly template: Template;
  /** The template as JSON, for walking it. */
  readonly json: CfnTemplate;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, unknown>;
  readonly Parameters?: Record<string, unknown>;
}

export interface BuildOptions {
  /** @default SHARED_DEFINITIONS */
  readonly definitions?: StackDefinitions;
  /** Run esbuild for every function. @default false */
  readonly bundle?: boolean;
  /** Run CDK's built-in CloudFormation schema validation (about 3 s). @default false */
  readonly validate?: boolean;
  /** @default TEST_CONTEXT */
  readonly context?: Partial<Record<ContextKey, unknown>>;
}

export function buildStack(options: BuildOptions = {}): BuiltStack {
  const context: Record<string, unknown> = {
    ...cdkJsonContext(),
    // What the CLI sets for `cdk synth`: asset and construct-path metadata on each resource.
    'aws:cdk:enable-asset-metadata': true,
    'aws:cdk:enable-path-metadata': true,
    ...(options.context ?? TEST_CONTEXT),
  };
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  const app = removedAfterAll(new App({ context, builtinCloudFormationValidation: options.validate ?? false }));
  const config = parseDeployConfig((key) => app.node.tryGetContext(key));
  const stack = new NhiGovernorStack(app, 'NhiGovernor', { config, definitions: options.definitions ?? SHARED_DEFINITIONS });
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as CfnTemplate };
}

/** Resources of one type, by logical id. */
export function resourcesOfType(json: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

/** The logical id of the function named `${prefix}-${name}`. */
export function functionLogicalId(json: CfnTemplate, functionName: string): string {
  const found = resourcesOfType(json, 'AWS::Lambda::Function').find(([, r]) => r.Properties?.['FunctionName'] === functionName);
  if (!found) throw new Error(`no function ${functionName} in the template`);
  return found[0];
}

/** The logical id of the role of the function named `${prefix}-${name}` (prefix nhigov). */
export function roleOfFunction(json: CfnTemplate, name: string, prefix = 'nhigov'): string {
  const fn = json.Resources[functionLogicalId(json, `${prefix}-${name}`)];
  return (fn?.Properties?.['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

/** Every App writes a cloud assembly (bundles included) under $TMPDIR: remove it when the file is done. */
export function removedAfterAll(app: App): App {
  afterAll(() => rmSync(app.outdir, { recursive: true, force: true }));
  return app;
}
