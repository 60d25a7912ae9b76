/**
 * `smkit teardown NAME`: removes what `smkit deploy` made for an endpoint: its scaling policy and
 * scalable target, the endpoint, its endpoint configs and their models (the current ones, and earlier
 * ones deploy tagged `smkit:endpoint=NAME`).
 */
import {
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointConfigsCommand,
  ListTagsCommand,
} from '@aws-sdk/client-sagemaker';
import { SmkitError } from '../util/errors.js';
import { variantResourceId } from './deploy.js';
import { checkName } from './names.js';
import type { AwsSession } from './session.js';

/** What teardown found, and removes. */
export interface TeardownPlan {
  readonly endpointName: string;
  readonly endpoint: boolean;
  readonly endpointConfigs: readonly string[];
  readonly models: readonly string[];
  readonly scalingPolicies: readonly string[];
  readonly scalableTargets: readonly string[];
}

const DIMENSION = 'sagemaker:variant:DesiredInstanceCount';

/** Finds what belongs to `endpointName` (reads only). */
export async function planTeardown(session: AwsSession, endpointName: string): Promise<TeardownPlan> {
  checkName(endpointName, 'endpoint name');
  const endpoint = await session.lookup(
    'sagemaker',
    new DescribeEndpointCommand({ EndpointName: endpointName }),
  );
  const configs = new Set<string>();
  if (endpoint?.EndpointConfigName) configs.add(endpoint.EndpointConfigName);
  const listed = await session.lookup(
    'sagemaker',
    new ListEndpointConfigsCommand({ NameContains: endpointName, MaxResults: 100 }),
  );
  for (const config of listed?.EndpointConfigs ?? []) {
    if (!config.EndpointConfigName || !config.EndpointConfigArn || configs.has(config.EndpointConfigName))
      continue;
    const tags = await session.lookup(
      'sagemaker',
      new ListTagsCommand({ ResourceArn: config.EndpointConfigArn }),
    );
    if (tags?.Tags?.some((t) => t.Key === 'smkit:endpoint' && t.Value === endpointName)) {
      configs.add(config.EndpointConfigName);
    }
  }
  const models = new Set<string>();
  for (const name of configs) {
    const config = await session.lookup(
      'sagemaker',
      new DescribeEndpointConfigCommand({ EndpointConfigName: name }),
    );
    for (const variant of config?.ProductionVariants ?? [])
      if (variant.ModelName) models.add(variant.ModelName);
  }
  const variants = endpoint?.ProductionVariants?.map((v) => v.VariantName ?? '').filter(Boolean) ?? [];
  const resourceIds = (variants.length ? variants : ['AllTraffic']).map((v) =>
    variantResourceId(endpointName, v),
  );
  const targets = await session.lookup(
    'application-autoscaling',
    new DescribeScalableTargetsCommand({
      ServiceNamespace: 'sagemaker',
      ResourceIds: resourceIds,
      ScalableDimension: DIMENSION,
    }),
  );
  const policies = await session.lookup(
    'application-autoscaling',
    new DescribeScalingPoliciesCommand({
      ServiceNamespace: 'sagemaker',
      ResourceId: resourceIds[0],
      ScalableDimension: DIMENSION,
    }),
  );
  return {
    endpointName,
    endpoint: Boolean(endpoint),
    endpointConfigs: [...configs],
    models: [...models],
    scalingPolicies: (policies?.ScalingPolicies ?? [])
      .filter((p) => p.PolicyName && resourceIds.includes(p.ResourceId ?? ''))
      .map((p) => `${p.ResourceId}|${p.PolicyName}`),
    scalableTargets: (targets?.ScalableTargets ?? []).map((t) => t.ResourceId ?? '').filter(Boolean),
  };
}

/** True when the plan finds nothing to remove. */
export function isEmptyPlan(plan: TeardownPlan): boolean {
  return (
    !plan.endpoint &&
    !plan.endpointConfigs.length &&
    !plan.models.length &&
    !plan.scalingPolicies.length &&
    !plan.scalableTargets.length
  );
}

/** The plan as lines for the confirmation prompt and the report. */
export function describePlan(plan: TeardownPlan): string {
  return [
    ...plan.scalingPolicies.map((p) => `  scaling policy ${p.split('|')[1]} on ${p.split('|')[0]}`),
    ...plan.scalableTargets.map((t) => `  scalable target ${t}`),
    ...(plan.endpoint ? [`  endpoint ${plan.endpointName}`] : []),
    ...plan.endpointConfigs.map((c) => `  endpoint config ${c}`),
    ...plan.models.map((m) => `  model ${m}`),
  ].join('\n');
}

/**
 * Deletes everything in `plan`, scaling first (a target on a deleted endpoint cannot be deregistered
 * cleanly), then the endpoint, its configs and models. A failure says what is left.
 */
export async function runTeardown(session: AwsSession, plan: TeardownPlan): Promise<void> {
  const done: string[] = [];
  const step = async (what: string, action: () => Promise<unknown>) => {
    try {
      await action();
      done.push(what);
    } catch (error) {
      throw new SmkitError(
        `${(error as Error).message}; removed so far: ${done.join(', ') || 'nothing'}; run \`smkit teardown ${plan.endpointName} --yes\` again for the rest`,
      );
    }
  };
  for (const entry of plan.scalingPolicies) {
    const [resourceId, policyName] = entry.split('|') as [string, string];
    await step(`scaling policy ${policyName}`, () =>
      session.call(
        'application-autoscaling',
        new DeleteScalingPolicyCommand({
          PolicyName: policyName,
          ServiceNamespace: 'sagemaker',
          ResourceId: resourceId,
          ScalableDimension: DIMENSION,
        }),
      ),
    );
  }
  for (const resourceId of plan.scalableTargets) {
    await step(`scalable target ${resourceId}`, () =>
      session.call(
        'application-autoscaling',
        new DeregisterScalableTargetCommand({
          ServiceNamespace: 'sagemaker',
          ResourceId: resourceId,
          ScalableDimension: DIMENSION,
        }),
      ),
    );
  }
  if (plan.endpoint) {
    await step(`endpoint ${plan.endpointName}`, () =>
      session.call('sagemaker', new DeleteEndpointCommand({ EndpointName: plan.endpointName })),
    );
  }
  for (const name of plan.endpointConfigs) {
    await step(`endpoint config ${name}`, () =>
      session.call('sagemaker', new DeleteEndpointConfigCommand({ EndpointConfigName: name })),
    );
  }
  for (const name of plan.models) {
    await step(`model ${name}`, () => session.call('sagemaker', new DeleteModelCommand({ ModelName: name })));
  }
}
