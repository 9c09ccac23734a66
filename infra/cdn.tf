# Avatars through CloudFront: objects under avatars/ are immutable and named by
# 128 random bits, so a CDN may cache them for a year (their Cache-Control says
# so) and the app links to them as AVATAR_BASE_URL + "avatars/<key>" instead of
# signing a URL per avatar per request.
#
# Only avatars/* is served, twice over:
# - the default behaviour, which every distribution has and which every path
#   outside avatars/* falls to, answers 404 itself (a viewer-request function):
#   it never asks the bucket;
# - the bucket policy (storage.tf) lets this distribution read avatars/* and
#   nothing else, so even a behaviour added by mistake could not fetch
#   pending/ uploads or web/ (S3 would answer 403).

locals {
  avatar_origin_id = "avatars-bucket"
}

# AWS-managed policies, found by name (docs: "AWS managed cache policy names
# are prefixed with Managed-"). CachingOptimized (id 658327ea-f89d-4fab-a63d-
# 7e88639e58f6) keys on the path alone and honours the objects' own
# Cache-Control (max-age=31536000, immutable) up to a year.
data "aws_cloudfront_cache_policy" "caching_optimized" {
  name = "Managed-CachingOptimized"
}

# nosniff, HSTS, frame and referrer headers on every answer
# (id 67f7725c-6f97-4210-82d7-5512b31e9d03).
data "aws_cloudfront_response_headers_policy" "security_headers" {
  name = "Managed-SecurityHeadersPolicy"
}

resource "aws_cloudfront_origin_access_control" "avatars" {
  name                              = "${var.name_prefix}-${random_id.suffix.hex}"
  description                       = "CloudFront signs its requests to the avatars bucket (SigV4); the bucket policy names the distribution."
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_function" "not_found" {
  name    = "${var.name_prefix}-${random_id.suffix.hex}-not-found"
  runtime = "cloudfront-js-2.0"
  comment = "Answers 404 to every path outside avatars/*, without asking the bucket."
  publish = true
  code    = file("${path.module}/cloudfront/not-found.js")
}

resource "aws_cloudfront_distribution" "avatars" {
  enabled         = true
  comment         = "Avatars of ${aws_s3_bucket.avatars.id}: ${local.avatar_prefix}* only"
  price_class     = var.cdn_price_class
  http_version    = "http2and3"
  is_ipv6_enabled = true

  origin {
    origin_id                = local.avatar_origin_id
    domain_name              = aws_s3_bucket.avatars.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.avatars.id
  }

  # The avatars: GET and HEAD over HTTPS only, cached as their Cache-Control says.
  ordered_cache_behavior {
    path_pattern               = "${local.avatar_prefix}*"
    target_origin_id           = local.avatar_origin_id
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    viewer_protocol_policy     = "https-only"
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security_headers.id
  }

  # Everything else: 404 from the function, never the bucket.
  default_cache_behavior {
    target_origin_id           = local.avatar_origin_id
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    viewer_protocol_policy     = "https-only"
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security_headers.id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.not_found.arn
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  # The *.cloudfront.net certificate. With it CloudFront applies the TLSv1
  # security policy whatever is asked, and the API accepts only "TLSv1" here;
  # TLSv1.2_2021 needs a custom domain with an ACM certificate in us-east-1
  # (aliases, acm_certificate_arn, ssl_support_method = "sni-only").
  viewer_certificate {
    cloudfront_default_certificate = true
    minimum_protocol_version       = "TLSv1"
  }
}
