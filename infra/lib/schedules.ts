/**
 * The scheduled runs: reconciliation puts a `Reconcile Requested` event (scope all) on the bus, so
 * it takes the same route as every other trigger; finalize starts the finalize state machine,
 * when the definitions have one.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { EVENT_TYPES } from '../../lambdas/domain/events.js';

const RECONCILE = 'Reconcile Requested';

export interface SchedulesProps {
  /** The bus the reconcile event is put on (the one the rules listen on). */
  readonly eventBus: events.IEventBus;
  /** Scheduler expression of the reconciliation. */
  readonly reconcileSchedule: string;
  /** The finalize state machine. @default - no finalize schedule */
  readonly finalize?: sfn.IStateMachine;
  /** Scheduler expression of the finalize run. */
  readonly finalizeSchedule: string;
  /** The function that checkpoints the evidence heads of changes in flight. @default - no checkpoint schedule */
  readonly checkpoint?: lambda.IFunction;
  /** Scheduler expression of the checkpoint run. */
  readonly checkpointSchedule: string;
  /** The function that opens and sweeps attestation campaigns. @default - no attestation schedules */
  readonly attestation?: lambda.IFunction;
  /** Scheduler expression of the attestation campaign. */
  readonly attestationSchedule: string;
  /** Scheduler expression of the sweep of open campaigns. */
  readonly attestationSweepSchedule: string;
}

export class Schedules extends Construct {
  readonly reconcile: scheduler.Schedule;
  /** Present when the stack has a finalize state machine. */
  readonly finalize: scheduler.Schedule | undefined;
  /** Present when the stack has a checkpoint function. */
  readonly checkpoint: scheduler.Schedule | undefined;
  /** The campaign and its sweep; present when the stack has an attestation function. */
  readonly attestation: { readonly campaign: scheduler.Schedule; readonly sweep: scheduler.Schedule } | undefined;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    this.reconcile = new scheduler.Schedule(this, 'Reconcile', {
      description: 'nhi-governor: daily reconciliation of the whole governed estate',
      schedule: scheduler.ScheduleExpression.expression(props.reconcileSchedule),
      target: new schedulerTargets.EventBridgePutEvents({
        eventBus: props.eventBus,
        source: EVENT_TYPES[RECONCILE].source,
        detailType: RECONCILE,
        // `eventId` is the producer id ingest deduplicates on (lambdas/domain/events.ts): a
        // retried delivery of the same scheduled run starts one change, not two.
        detail: scheduler.ScheduleTargetInput.fromObject({ scope: 'all', eventId: `reconcile-${scheduler.ContextAttribute.scheduledTime}` }),
      }),
    });
    this.finalize = props.finalize
      ? new scheduler.Schedule(this, 'Finalize', {
          description: 'nhi-governor: daily finalize of reversible changes past their grace period',
          schedule: scheduler.ScheduleExpression.expression(props.finalizeSchedule),
          target: new schedulerTargets.StepFunctionsStartExecution(props.finalize, {
            input: scheduler.ScheduleTargetInput.fromObject({ trigger: 'schedule', scheduledTime: scheduler.ContextAttribute.scheduledTime }),
          }),
        })
      : undefined;
    this.checkpoint = props.checkpoint ? this.checkpointSchedule(props.checkpoint, props.checkpointSchedule) : undefined;
    this.attestation = props.attestation ? this.attestationSchedules(props.attestation, props.attestationSchedule, props.attestationSweepSchedule) : undefined;
  }

  /**
   * The campaign (its scheduled time names it: a retried delivery opens no second campaign) and
   * the sweep that escalates, starts follow-up changes and closes campaigns whose window passed.
   * One role invokes the one attestation function.
   */
  private attestationSchedules(fn: lambda.IFunction, campaign: string, sweep: string): { campaign: scheduler.Schedule; sweep: scheduler.Schedule } {
    const role = new iam.Role(this, 'AttestationRole', { assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'), description: 'nhi-governor: invokes the attestation function (campaigns and sweeps)' });
    const cfn = fn.node.defaultChild;
    if (cfn instanceof CfnFunction) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(cfn)}.Arn>:*]`,
        reason: 'grantInvoke covers the versions and aliases of the one attestation function.',
      });
    }
    return {
      campaign: new scheduler.Schedule(this, 'AttestationCampaign', {
        description: 'nhi-governor: owner attestation campaign over the governed estate',
        schedule: scheduler.ScheduleExpression.expression(campaign),
        target: new schedulerTargets.LambdaInvoke(fn, { role, input: scheduler.ScheduleTargetInput.fromObject({ action: 'start', scheduledTime: scheduler.ContextAttribute.scheduledTime }) }),
      }),
      sweep: new scheduler.Schedule(this, 'AttestationSweep', {
        description: 'nhi-governor: sweep of open attestation campaigns (escalations, follow-up changes, closing)',
        schedule: scheduler.ScheduleExpression.expression(sweep),
        target: new schedulerTargets.LambdaInvoke(fn, { role, input: scheduler.ScheduleTargetInput.fromObject({ action: 'sweep', scheduledTime: scheduler.ContextAttribute.scheduledTime }) }),
      }),
    };
  }

  /** Its own role: grantInvoke's `ARN:*` (versions, aliases) is acknowledged there, for this one function. */
  private checkpointSchedule(fn: lambda.IFunction, expression: string): scheduler.Schedule {
    const role = new iam.Role(this, 'CheckpointRole', { assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'), description: 'nhi-governor: invokes the checkpoint function hourly' });
    const cfn = fn.node.defaultChild;
    if (cfn instanceof CfnFunction) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(cfn)}.Arn>:*]`,
        reason: 'grantInvoke covers the versions and aliases of the one checkpoint function.',
      });
    }
    return new scheduler.Schedule(this, 'Checkpoint', {
      description: 'nhi-governor: hourly signed checkpoint of the evidence heads of changes in flight',
      schedule: scheduler.ScheduleExpression.expression(expression),
      target: new schedulerTargets.LambdaInvoke(fn, { role, input: scheduler.ScheduleTargetInput.fromObject({ reason: 'scheduled' }) }),
    });
  }
}
