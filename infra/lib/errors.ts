/** Errors the CDK app throws while building the stack: each names what to fix and where. */

/** A context value that cannot be deployed; the message names the key. */
export class DeployConfigError extends Error {
  override readonly name = 'DeployConfigError';
}

/** The shared definitions (infra/resources.ts, ASL, connector registry) cannot be deployed as they are. */
export class StackDefinitionError extends Error {
  override readonly name = 'StackDefinitionError';
}
