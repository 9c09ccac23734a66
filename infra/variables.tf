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
  description = "Origins whose pages may POST uploads to the bucket, e.g. [\"https://abc123.execute-api.eu-west-1.amazonaws.com\"]. The default allows any: the presigned policy, not CORS, decides what is stored."
  type        = list(string)
  default     = ["*"]
}
