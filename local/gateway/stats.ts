/** Services listed even before their first call, so readers can rely on the keys. */
const ALWAYS_LISTED = ['iam', 'secretsmanager', 'dynamodb', 'sfn'] as const;

/** Counters of everything that passed the gateway: AWS calls by service and action, handler invocations. */
export class GatewayStats {
  private readonly aws = new Map<string, Map<string, number>>();
  private readonly lambda = new Map<string, number>();

  countAws(service: string, action: string): void {
    const actions = this.aws.get(service) ?? new Map<string, number>();
    actions.set(action, (actions.get(action) ?? 0) + 1);
    this.aws.set(service, actions);
  }

  countLambda(handler: string): void {
    this.lambda.set(handler, (this.lambda.get(handler) ?? 0) + 1);
  }

  reset(): void {
    this.aws.clear();
    this.lambda.clear();
  }

  snapshot(): { aws: Record<string, Record<string, number>>; lambda: Record<string, number> } {
    const aws: Record<string, Record<string, number>> = Object.fromEntries(ALWAYS_LISTED.map((service) => [service, {}]));
    for (const [service, actions] of this.aws) aws[service] = Object.fromEntries(actions);
    return {
      aws,
      lambda: Object.fromEntries(this.lambda),
    };
  }
}
