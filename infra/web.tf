# The page: every file of static/ under web/, served by the app itself
# (Chalice's Lambda package holds only app.py, chalicelib/ and vendor/).

locals {
  static_dir = "${path.module}/../static"
  content_types = {
    html = "text/html; charset=utf-8"
    js   = "text/javascript; charset=utf-8"
    css  = "text/css; charset=utf-8"
  }
}

resource "aws_s3_object" "web" {
  for_each = fileset(local.static_dir, "*")

  bucket       = aws_s3_bucket.avatars.id
  key          = "${local.web_prefix}${each.value}"
  source       = "${local.static_dir}/${each.value}"
  content_type = lookup(local.content_types, reverse(split(".", each.value))[0], "application/octet-stream")
  # The content's hash: a re-apply after editing the page publishes it.
  etag = filemd5("${local.static_dir}/${each.value}")
}
