"""What on-call watches: a dashboard and alarms on failed runs, errors and throttles."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.config import DeployConfig

__all__ = ["Operations"]

FIVE_MINUTES = Duration.minutes(5)


class Operations(Construct):
    """Dashboard ``flowwright-<stage>`` and alarms that notify the ``alarms`` topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        key: kms.IKey,
        functions: dict[str, lambda_.IFunction],
        machines: dict[str, sfn.StateMachine],
        dead_letters: sqs.IQueue,
        rest_api: apigateway.RestApi,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Alarms",
            master_key=key,
            enforce_ssl=True,
            display_name=f"flowwright {config.stage} alarms",
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []
        dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"flowwright-{config.stage}"
        )
        for app_name, machine in machines.items():
            failed = machine.metric_failed(period=FIVE_MINUTES, statistic="Sum")
            timed_out = machine.metric_timed_out(period=FIVE_MINUTES, statistic="Sum")
            self._alarm(f"{machine.node.id}-failed", failed, f"{app_name}: runs failed")
            self._alarm(f"{machine.node.id}-timed-out", timed_out, f"{app_name}: runs timed out")
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{app_name}: runs",
                    left=[
                        machine.metric_started(period=FIVE_MINUTES, statistic="Sum"),
                        machine.metric_succeeded(period=FIVE_MINUTES, statistic="Sum"),
                        failed,
                        timed_out,
                    ],
                    width=12,
                )
            )
        depth = dead_letters.metric_approximate_number_of_messages_visible(
            period=FIVE_MINUTES, statistic="Maximum"
        )
        self._alarm("ingest-dead-letters", depth, "knowledge events failed repeatedly (DLQ)")
        server_errors = rest_api.metric_server_error(period=FIVE_MINUTES, statistic="Sum")
        self._alarm("api-5xx", server_errors, "Service API answered 5xx")
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="ingest dead letters", left=[depth], width=12),
            cloudwatch.GraphWidget(
                title="Service API",
                left=[
                    rest_api.metric_count(period=FIVE_MINUTES, statistic="Sum"),
                    rest_api.metric_client_error(period=FIVE_MINUTES, statistic="Sum"),
                    server_errors,
                ],
                right=[rest_api.metric_latency(period=FIVE_MINUTES, statistic="p95")],
                width=12,
            ),
        )
        for key, function in functions.items():
            errors = function.metric_errors(period=FIVE_MINUTES, statistic="Sum")
            throttles = function.metric_throttles(period=FIVE_MINUTES, statistic="Sum")
            self._alarm(f"{key}-errors", errors, f"{key} function errors")
            self._alarm(f"{key}-throttles", throttles, f"{key} function throttled")
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{key} function",
                    left=[
                        function.metric_invocations(period=FIVE_MINUTES, statistic="Sum"),
                        errors,
                        throttles,
                    ],
                    right=[function.metric_duration(period=FIVE_MINUTES, statistic="p95")],
                    width=12,
                )
            )

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
