import type { TrainingJobOutcome, TransformJobOutcome } from './run-jobs.js';

/** The human summary printed at the end of `smkit train-job`. */
export function describeTrainingJob(outcome: TrainingJobOutcome): string {
  const lines = [
    `Training job ${outcome.jobName}: ${outcome.status}${outcome.secondaryStatus && outcome.secondaryStatus !== outcome.status ? ` (${outcome.secondaryStatus})` : ''}`,
  ];
  if (outcome.arn) lines.push(`  ${outcome.arn}`);
  if (outcome.failureReason) lines.push(`FailureReason: ${outcome.failureReason}`);
  if (outcome.metrics.length) {
    lines.push('Final metrics:');
    for (const metric of outcome.metrics) lines.push(`  ${metric.name} = ${metric.value}`);
  }
  if (outcome.billableSeconds !== undefined) lines.push(`Billable seconds: ${outcome.billableSeconds}`);
  if (outcome.modelArtifacts) lines.push(`model.tar.gz: ${outcome.modelArtifacts}`);
  if (outcome.model)
    lines.push(`downloaded to ${outcome.model.archive}, extracted into ${outcome.model.dir}`);
  if (outcome.status === 'InProgress') {
    lines.push(
      `follow it with --wait, or: aws sagemaker describe-training-job --training-job-name ${outcome.jobName}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The human summary printed at the end of `smkit transform-job`. */
export function describeTransformJob(outcome: TransformJobOutcome): string {
  const lines = [`Transform job ${outcome.jobName}: ${outcome.status}`];
  if (outcome.arn) lines.push(`  ${outcome.arn}`);
  if (outcome.failureReason) lines.push(`FailureReason: ${outcome.failureReason}`);
  if (outcome.output) lines.push(`output: ${outcome.output}`);
  if (outcome.status === 'InProgress') {
    lines.push(
      `follow it with --wait, or: aws sagemaker describe-transform-job --transform-job-name ${outcome.jobName}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
