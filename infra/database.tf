# The users table and the seed users, whose avatar images go to avatars/ once.

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

# The seed users' images, uploaded once, when their items are created: never
# again by a later apply. An aws_s3_object here would be recreated by every
# apply after a seed user changed avatar (finalize deletes the replaced seed
# image; the provider then finds the object gone and plans to create it, and
# `lifecycle { ignore_changes = all }` does not prevent that), only for the
# daily sweeper to delete it again as an object nobody points at. This
# resource records that the upload happened, not the object, so Terraform
# never looks at the object again; like devtools/provision.py, which uploads a
# seed image only when it creates the user. It runs again only if the bucket
# or the user's item is replaced. It needs the AWS CLI, with the credentials
# and region Terraform uses (README, Deploying).
resource "terraform_data" "seed_avatars" {
  for_each = local.seed_users

  triggers_replace = [aws_s3_bucket.avatars.id, each.value.Avatar]

  provisioner "local-exec" {
    command = "aws s3api put-object --region \"$REGION\" --bucket \"$BUCKET\" --key \"$KEY\" --body \"$BODY\" --content-type image/png --cache-control \"$CACHE_CONTROL\" --metadata \"username=$USERNAME\""
    environment = {
      REGION        = var.region
      BUCKET        = aws_s3_bucket.avatars.id
      KEY           = each.value.Avatar
      BODY          = "${path.module}/seed/${each.key}.png"
      CACHE_CONTROL = "public, max-age=31536000, immutable"
      USERNAME      = each.key
    }
  }

  lifecycle {
    replace_triggered_by = [aws_dynamodb_table_item.seed_users[each.key]]
  }
}
