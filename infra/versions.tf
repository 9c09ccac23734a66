terraform {
  required_version = ">= 1.5"

  # The state holds the session signing secret in plain text
  # (random_password.session_secret), so it never goes to git (.gitignore).
  # For a real account keep it in a remote backend, encrypted and locked, in a
  # versioned bucket made beforehand for state only, for instance:
  #
  # backend "s3" {
  #   bucket       = "<your-terraform-state-bucket>"
  #   key          = "avatars/terraform.tfstate"
  #   region       = "eu-west-1"
  #   encrypt      = true
  #   use_lockfile = true # S3 lock file, Terraform >= 1.10; before it, dynamodb_table = "<lock table>"
  # }
  #
  # https://developer.hashicorp.com/terraform/language/backend/s3

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # At least 5.99: a lifecycle rule's empty filter broke in 5.86.0 ("Provider
      # produced inconsistent result", also with prefix = "", fixed in 5.86.1:
      # hashicorp/terraform-provider-aws#41268, #41296) and then warned "This
      # will be an error in a future version" from 5.90 until the fix of #42624
      # (#41710, #42714), while "~> 5.0" accepted every one of them. storage.tf
      # also writes its whole-bucket rule as filter { prefix = "" }, which every
      # release from this floor reads the same way and without a warning.
      version = "~> 5.99"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

locals {
  # Every resource Terraform makes carries these; configure_stage gives the
  # same tags to Chalice's functions (the output default_tags).
  default_tags = {
    Project = var.name_prefix
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.default_tags
  }
}
