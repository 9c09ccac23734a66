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
