# Read by `devtools/configure_stage.py`, which writes them into the `dev`
# stage of .chalice/config.json and into one IAM policy file per function
# (.chalice/policy-dev-<function>.json).

output "region" {
  description = "The region everything is in; deploy the app there too."
  value       = var.region
}

output "bucket_name" {
  description = "The bucket for uploads, avatars and the page (AVATAR_BUCKET)."
  value       = aws_s3_bucket.avatars.id
}

output "table_name" {
  description = "The users table (USERS_TABLE)."
  value       = aws_dynamodb_table.users.name
}

output "table_arn" {
  description = "The users table's ARN, for the app's IAM policy."
  value       = aws_dynamodb_table.users.arn
}

output "session_secret_parameter" {
  description = "Name of the SSM parameter holding the session signing key (SESSION_SECRET_PARAMETER)."
  value       = aws_ssm_parameter.session_secret.name
}

output "session_secret_parameter_arn" {
  description = "The parameter's ARN, for the app's IAM policy."
  value       = aws_ssm_parameter.session_secret.arn
}

output "max_upload_bytes" {
  description = "Largest avatar accepted, in bytes (MAX_UPLOAD_BYTES)."
  value       = var.max_upload_bytes
}

output "avatar_base_url" {
  description = "Where avatars are served: the CloudFront distribution's https URL with a trailing slash; an avatar is this + \"avatars/<key>\" (AVATAR_BASE_URL)."
  value       = "https://${aws_cloudfront_distribution.avatars.domain_name}/"
}

output "avatar_domain_name" {
  description = "The CloudFront distribution's domain name, e.g. d111111abcdef8.cloudfront.net (for the page's Content-Security-Policy img-src, or a DNS alias)."
  value       = aws_cloudfront_distribution.avatars.domain_name
}

output "debug_routes" {
  description = "Whether the deployed stage serves the /debug/ routes (DEBUG_ROUTES), from var.debug_routes."
  value       = var.debug_routes
}

output "log_retention_days" {
  description = "Days the functions' log groups keep their logs."
  value       = var.log_retention_days
}

output "default_tags" {
  description = "The provider's default tags, on every resource Terraform makes; configure_stage gives Chalice's functions the same (the dev stage's tags)."
  value       = local.default_tags
}

output "alarm_topic_arn" {
  description = "The SNS topic the alarms notify, to subscribe more endpoints to; null, and so absent from `terraform output -json`, when alarms_enabled is false."
  value       = one(aws_sns_topic.alarms[*].arn)
}
