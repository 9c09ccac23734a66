# The users table and the seed users, whose avatar images go to avatars/.

locals {
  seed_users = { for user in jsondecode(file("${path.module}/seed/users.json")) : user.Username => user }
}

resource "aws_dynamodb_table" "users" {
  name         = "${var.name_prefix}-users-${random_id.suffix.hex}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "Username"

  attribute {
    name = "Username"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table_item" "seed_users" {
  for_each = local.seed_users

  table_name = aws_dynamodb_table.users.name
  hash_key   = aws_dynamodb_table.users.hash_key
  item = jsonencode({
    Username = { S = each.value.Username }
    Name     = { S = each.value.Name }
    Avatar   = { S = each.value.Avatar }
  })

  # Users change their avatars: a re-apply must not reset them.
  lifecycle {
    ignore_changes = [item]
  }
}

resource "aws_s3_object" "seed_avatars" {
  for_each = local.seed_users

  bucket        = aws_s3_bucket.avatars.id
  key           = each.value.Avatar
  source        = "${path.module}/seed/${each.key}.png"
  content_type  = "image/png"
  cache_control = "public, max-age=31536000, immutable"
  metadata = {
    username = each.key
  }

  # Once a user changes avatar, the app deletes this object; a later apply
  # uploads it again as an object nobody points at (see README, Deploying).
  lifecycle {
    ignore_changes = all
  }
}
