/** Services listed even before their first call, so readers can rely on the keys. */
const ALWAYS_LISTED = ['iam', 'secretsmanager', 'dynamodb', 'sfn'] as const;

/** Counters of everything that passed the gateway: AWS calls by service and action, handler invocations. */
export class GatewayStats {
  private readonly aws = new Map<string, Map<string, number>>();
  private readonly lambda = new Map<string, number>();
  /** DynamoDB calls by table, then action: what each store costs (the evidence table's calls per event). */
  private readonly dynamodbTables = new Map<string, Map<string, number>>();

  countAws(service: string, action: string): void {
    const actions = this.aws.get(service) ?? new Map<string, number>();
    actions.set(action, (actions.get(action) ?? 0) + 1);
    this.aws.set(service, actions);
  }

  countDynamoDbTable(table: string, action: string): void {
    const actions = this.dynamodbTables.get(table) ?? new Map<string, number>();
    actions.set(action, (actions.get(action) ?? 0) + 1);
    this.dynamodbTables.set(table, actions);
  }

  countLambda(handler: string): void {
    this.lambda.set(handler, (this.lambda.get(handler) ?? 0) + 1);
  }

  reset(): void {
    this.aws.clear();
    this.lambda.clear();
    this.dynamodbTables.clear();
  }

  snapshot(): { aws: Record<string, Record<string, number>>; lambda: Record<string, number>; dynamodbTables: Record<string, Record<string, number>> } {
    const aws: Record<string, Record<string, number>> = Object.fromEntries(ALWAYS_LISTED.map((service) => [service, {}]));
    for (const [service, actions] of this.aws) aws[service] = Object.fromEntries(actions);
    return {
      aws,
      lambda: Object.fromEntries(this.lambda),
      dynamodbTables: Object.fromEntries([...this.dynamodbTables].map(([table, actions]) => [table, Object.fromEntries(actions)])),
    };
  }
}
