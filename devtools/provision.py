"""Create locally what Terraform creates on AWS, in an emulator.

The bucket (CORS, the `pending/` lifecycle rule), the table, the seed users and
their avatars, and the page under `web/`. Seeding never overwrites: like
Terraform's `ignore_changes`, a second run keeps what users changed.
"""

import mimetypes
from pathlib import Path

from chalicelib.uploads import AVATAR_CACHE_CONTROL, OWNER_METADATA
from devtools.seed import load_seed

ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = ROOT / "static"
PENDING_EXPIRATION_DAYS = 1


def provision(s3, dynamodb, settings, cors_origins=("*",)):
    create_bucket(s3, settings, cors_origins)
    create_table(dynamodb, settings.table_name)
    seed_users(s3, dynamodb, settings)
    publish_page(s3, settings)


def create_bucket(s3, settings, cors_origins):
    bucket = settings.bucket_name
    options = {}
    if settings.region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": settings.region}
    try:
        s3.create_bucket(Bucket=bucket, **options)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": ["POST"],
                    "AllowedOrigins": list(cors_origins),
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": lifecycle_rules(settings)}
    )


def lifecycle_rules(settings):
    """The same rules as infra/storage.tf."""
    return [
        {
            "ID": "expire-pending-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": settings.pending_prefix},
            "Expiration": {"Days": PENDING_EXPIRATION_DAYS},
        },
        {
            "ID": "abort-incomplete-multipart-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
    ]


def create_table(dynamodb, table_name):
    try:
        dynamodb.create_table(
            TableName=table_name,
            AttributeDefinitions=[{"AttributeName": "Username", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "Username", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except dynamodb.exceptions.ResourceInUseException:
        return
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)


def seed_users(s3, dynamodb, settings):
    for user, image in load_seed():
        try:
            dynamodb.put_item(
                TableName=settings.table_name,
                Item={name: {"S": value} for name, value in user.items()},
                ConditionExpression="attribute_not_exists(Username)",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue
        s3.put_object(
            Bucket=settings.bucket_name,
            Key=user["Avatar"],
            Body=image,
            ContentType="image/png",
            CacheControl=AVATAR_CACHE_CONTROL,
            Metadata={OWNER_METADATA: user["Username"]},
        )


def publish_page(s3, settings, static_dir=STATIC_DIR):
    for path in sorted(static_dir.iterdir()):
        if path.is_file():
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            s3.put_object(
                Bucket=settings.bucket_name,
                Key=settings.web_prefix + path.name,
                Body=path.read_bytes(),
                ContentType=content_type,
            )


def pending_events_queue_name(settings) -> str:
    return f"{settings.bucket_name}-pending"


def connect_pending_events(s3, sqs, settings, queue_name):
    """Have the bucket tell an SQS queue of each new pending upload.

    Locally, S3 cannot invoke a Lambda (moto needs Docker for that), so the
    local stack's bridge reads this queue and calls the same handler.
    """
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=settings.bucket_name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [{"Name": "prefix", "Value": settings.pending_prefix}]
                        }
                    },
                }
            ]
        },
    )
    return queue_url
