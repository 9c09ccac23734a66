# The key that signs session cookies, kept in SSM Parameter Store.
# The app reads it once per Lambda container.

resource "random_password" "session_secret" {
  length  = 48
  special = false
}

resource "aws_ssm_parameter" "session_secret" {
  name        = "/${var.name_prefix}-${random_id.suffix.hex}/session-secret"
  description = "HMAC-SHA256 key for the avatar app's session cookies."
  type        = "SecureString"
  value       = random_password.session_secret.result
}
