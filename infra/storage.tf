# The bucket: pending/ uploads, avatars/ and the page under web/.
# Its notification configuration is deliberately absent: `chalice deploy`
# creates it for the S3 event Lambda, and a Terraform-managed one would
# overwrite it.

locals {
  pending_prefix = "pending/"
  avatar_prefix  = "avatars/"
  web_prefix     = "web/"
}

resource "random_id" "suffix" {
  byte_length = 4
}

resource "aws_s3_bucket" "avatars" {
  bucket = "${var.name_prefix}-${random_id.suffix.hex}"
  # A demo: `terraform destroy` empties it rather than failing on a used bucket.
  force_destroy = true
}

resource "aws_s3_bucket_ownership_controls" "avatars" {
  bucket = aws_s3_bucket.avatars.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "avatars" {
  bucket = aws_s3_bucket.avatars.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "avatars" {
  bucket = aws_s3_bucket.avatars.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# The bucket's one policy: TLS only, and CloudFront (this distribution alone,
# through its origin access control) may read avatars/ and nothing else. That
# grant is what keeps pending/ uploads, web/ and the listing out of the CDN,
# whatever path a viewer asks for (cdn.tf). CloudFront reaches an S3 origin
# with the viewer's protocol, and viewers must use HTTPS, so the deny never
# refuses it.
data "aws_iam_policy_document" "avatars" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.avatars.arn,
      "${aws_s3_bucket.avatars.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "CloudFrontReadsAvatars"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.avatars.arn}/${local.avatar_prefix}*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.avatars.arn]
    }
  }
}

resource "aws_s3_bucket_policy" "avatars" {
  bucket = aws_s3_bucket.avatars.id
  policy = data.aws_iam_policy_document.avatars.json

  # The public access block must exist first, or S3 may refuse the policy.
  depends_on = [aws_s3_bucket_public_access_block.avatars]
}

resource "aws_s3_bucket_lifecycle_configuration" "avatars" {
  bucket = aws_s3_bucket.avatars.id

  rule {
    id     = "expire-pending-uploads"
    status = "Enabled"

    filter {
      prefix = local.pending_prefix
    }

    expiration {
      days = var.pending_expiration_days
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    # The whole bucket, said explicitly: an empty filter {} is read differently
    # across provider 5.x releases (versions.tf).
    filter {
      prefix = ""
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_cors_configuration" "avatars" {
  bucket = aws_s3_bucket.avatars.id

  # The browser's step 2: a POST (and its preflight) straight to the bucket.
  cors_rule {
    allowed_methods = ["POST"]
    allowed_origins = var.allowed_cors_origins
    allowed_headers = ["*"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3000
  }
}
