# Logs and alarms of what `chalice deploy --stage dev` makes.
#
# Terraform does not deploy the functions or the REST API, but it must name
# them: these are Chalice's names for the dev stage (.chalice/config.json's
# app_name and api_gateway_stage; Chalice names the REST API after the app, the
# API's function <app>-<stage> and every other <app>-<stage>-<handler>).
# tests/infra/test_terraform.py holds them to config.json and app.py.

locals {
  chalice_app_name  = "avatars"
  chalice_stage     = "dev"
  api_gateway_stage = "api"
  # Each function of app.py by its handler's name, as Chalice names it.
  chalice_functions = {
    api_handler            = "${local.chalice_app_name}-${local.chalice_stage}"
    log_pending_upload     = "${local.chalice_app_name}-${local.chalice_stage}-log_pending_upload"
    sweep_orphaned_avatars = "${local.chalice_app_name}-${local.chalice_stage}-sweep_orphaned_avatars"
  }
  alarm_prefix = "${var.name_prefix}-${random_id.suffix.hex}"
  # The namespace the app's metrics are in (CloudWatch embedded metric format).
  app_metric_namespace = "Avatars"
}

# Each function's log group, made before the function so that Lambda writes
# into it rather than making one that keeps logs forever. Not Chalice's
# log_retention_in_days: in chalice 1.34 it names the API's group after the
# handler (/aws/lambda/<app>-<stage>-api_handler) while the function,
# <app>-<stage>, logs to /aws/lambda/<app>-<stage> (chalice/deploy/appgraph.py);
# `chalice package` refuses it (UnsupportedFeatureError, aws/chalice#2079); and
# `chalice delete` removes the retention but leaves the group. Here `terraform
# destroy` removes them. Apply before the first deploy: a group Lambda has
# already made must be imported (README, Deploying).
resource "aws_cloudwatch_log_group" "functions" {
  for_each = local.chalice_functions

  name              = "/aws/lambda/${each.value}"
  retention_in_days = var.log_retention_days
}

# Alarms, only with alarms_enabled. Each fires on one datapoint at or above 1
# and returns to OK on its own; missing data (no traffic, no error) is OK.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# CloudWatch can publish to an encrypted topic only if the key lets it use the
# key, which the AWS-managed aws/sns key never does: a key of our own.
# https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
# In a key policy "Resource": "*" means this key alone.
resource "aws_kms_key" "alarms" {
  count = var.alarms_enabled ? 1 : 0

  description             = "Encrypts the avatar app's alarm topic."
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Without it no one in the account could manage or delete the key.
        Sid       = "AccountAdministersTheKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
          ArnLike      = { "aws:SourceArn" = "arn:${data.aws_partition.current.partition}:cloudwatch:${var.region}:${data.aws_caller_identity.current.account_id}:alarm:${local.alarm_prefix}-*" }
        }
      },
    ]
  })
}

resource "aws_sns_topic" "alarms" {
  count = var.alarms_enabled ? 1 : 0

  name              = "${local.alarm_prefix}-alarms"
  kms_master_key_id = aws_kms_key.alarms[0].arn
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarms_enabled && var.alarm_email != "" ? 1 : 0

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# API Gateway's own count of 5xx answers of the REST API's stage.
resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  count = var.alarms_enabled ? 1 : 0

  alarm_name          = "${local.alarm_prefix}-api-5xx"
  alarm_description   = "The REST API ${local.chalice_app_name}, stage ${local.api_gateway_stage}, answered 5xx."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5XXError"
  dimensions          = { ApiName = local.chalice_app_name, Stage = local.api_gateway_stage }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms[0].arn]
  ok_actions          = [aws_sns_topic.alarms[0].arn]
}

# Finalize could not reach S3 or DynamoDB (it answered 503).
resource "aws_cloudwatch_metric_alarm" "finalize_aws_errors" {
  count = var.alarms_enabled ? 1 : 0

  alarm_name          = "${local.alarm_prefix}-finalize-aws-errors"
  alarm_description   = "POST /avatar failed on an AWS call (FinalizeOutcome, Outcome aws_error)."
  namespace           = local.app_metric_namespace
  metric_name         = "FinalizeOutcome"
  dimensions          = { Outcome = "aws_error" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms[0].arn]
  ok_actions          = [aws_sns_topic.alarms[0].arn]
}

# The daily sweep could not delete some orphans.
resource "aws_cloudwatch_metric_alarm" "sweep_failures" {
  count = var.alarms_enabled ? 1 : 0

  alarm_name          = "${local.alarm_prefix}-sweep-failures"
  alarm_description   = "The daily sweep failed to delete orphaned avatars (SweepFailures)."
  namespace           = local.app_metric_namespace
  metric_name         = "SweepFailures"
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms[0].arn]
  ok_actions          = [aws_sns_topic.alarms[0].arn]
}

# The sweep did not run to its end (an exception, a timeout): then it counts
# no SweepFailures at all, but Lambda counts an error.
resource "aws_cloudwatch_metric_alarm" "sweeper_errors" {
  count = var.alarms_enabled ? 1 : 0

  alarm_name          = "${local.alarm_prefix}-sweeper-errors"
  alarm_description   = "The function ${local.chalice_functions.sweep_orphaned_avatars} failed."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = local.chalice_functions.sweep_orphaned_avatars }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms[0].arn]
  ok_actions          = [aws_sns_topic.alarms[0].arn]
}
