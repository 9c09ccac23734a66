variable "region" {
  description = "AWS region for everything. `chalice deploy` must deploy to the same one (README, Deploying)."
  type        = string
  default     = "eu-west-1"
}

variable "name_prefix" {
  description = "Start of every resource name; a random suffix keeps the bucket name globally unique."
  type        = string
  default     = "avatars"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "Use 2 to 31 lowercase letters, digits or hyphens: it becomes part of an S3 bucket name."
  }
}

variable "pending_expiration_days" {
  description = "Days after which an upload never finalized (still under pending/) is deleted by the lifecycle rule."
  type        = number
  default     = 1

  validation {
    condition     = var.pending_expiration_days >= 1 && floor(var.pending_expiration_days) == var.pending_expiration_days
    error_message = "S3 lifecycle expiration is a whole number of days, at least 1."
  }
}

variable "max_upload_bytes" {
  description = "Largest upload accepted, in bytes: the POST policy's content-length-range and finalize's check. 10 MiB lets a client send a phone's original photo."
  type        = number
  default     = 10485760

  # Finalize reads the whole upload into the Lambda's memory to decode it; the
  # memory set in .chalice/config.json is measured for uploads of this size.
  validation {
    condition     = var.max_upload_bytes >= 1 && var.max_upload_bytes <= 52428800
    error_message = "Between 1 byte and 50 MiB: finalize holds the whole upload in the Lambda's memory."
  }
}

variable "allowed_cors_origins" {
  description = "Origins whose pages may POST uploads to the bucket: the deployed page's, e.g. [\"https://abc123.execute-api.eu-west-1.amazonaws.com\"]. No default: say which. Before the first `chalice deploy` the API's id is unknown; [\"https://*.execute-api.<region>.amazonaws.com\"] (every REST API of the region) serves until then (README, Deploying)."
  type        = list(string)

  # S3 matches an origin exactly, or with at most one `*`; a bare "*" would
  # let any site's page post to the bucket.
  validation {
    condition = length(var.allowed_cors_origins) > 0 && alltrue([
      for origin in var.allowed_cors_origins :
      can(regex("^https://(\\*\\.)?[a-z0-9-]+(\\.[a-z0-9-]+)*(:[0-9]{1,5})?$", origin))
    ])
    error_message = "Give at least one origin, each https://<host>[:port] with no path or trailing slash; a leading \"*.\" is the only wildcard allowed."
  }
}

variable "debug_routes" {
  description = "Serve GET /debug/bucket and GET /debug/table on the deployed stage (DEBUG_ROUTES). They have no access control: anyone can read every user's avatar key, the table's items and the bucket's newest uploads. Leave false outside a demo."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the functions' logs (their log groups, in monitoring.tf)."
  type        = number
  default     = 30

  validation {
    # PutRetentionPolicy's allowed values (botocore's logs model, shape Days).
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "CloudWatch Logs keeps logs for 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 days."
  }
}

variable "cdn_price_class" {
  description = "The CloudFront price class serving avatars: PriceClass_100 (North America, Europe, Israel), PriceClass_200 (most regions) or PriceClass_All."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cdn_price_class)
    error_message = "One of PriceClass_100, PriceClass_200, PriceClass_All."
  }
}

variable "alarms_enabled" {
  description = "Create CloudWatch alarms (API 5xx, finalize AWS errors, sweep failures and sweeper errors) and the encrypted SNS topic they notify. Off by default: the topic's KMS key costs about 1 USD a month."
  type        = bool
  default     = false
}

variable "alarm_email" {
  description = "An address the alarm topic mails (it must confirm the subscription); \"\" for none. Used only with alarms_enabled."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "An e-mail address, or \"\" for none."
  }
}
