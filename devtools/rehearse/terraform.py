"""What infra/*.tf creates and `terraform output -json` prints: the resources'
names, the attributes outputs.tf reads, and the outputs document."""

from pathlib import Path

import hcl2

from devtools.rehearse.errors import RehearsalError

INFRA_DIR = Path(__file__).resolve().parents[2] / "infra"


class Infra:
    """What infra/*.tf declares (parsed with python-hcl2): each variable's
    default, each resource's arguments by `<type>.<name>`, each output."""

    def __init__(self, directory=INFRA_DIR):
        options = hcl2.SerializationOptions(
            strip_string_quotes=True, with_comments=False, explicit_blocks=False
        )
        self.defaults, self.resources, self.outputs = {}, {}, {}
        for path in sorted(Path(directory).glob("*.tf")):
            with path.open() as handle:
                parsed = hcl2.load(handle, serialization_options=options)
            for block in parsed.get("variable", []):
                for name, body in block.items():
                    self.defaults[name] = body.get("default")
            for block in parsed.get("resource", []):
                for kind, named in block.items():
                    for name, body in named.items():
                        self.resources[f"{kind}.{name}"] = body
            for block in parsed.get("output", []):
                self.outputs.update(block)

    def render(self, template: str, suffix: str) -> str:
        """A name as Terraform makes it from `template`: the variables at their
        defaults, `random_id.suffix.hex` as `suffix`."""
        value = template.replace("${random_id.suffix.hex}", suffix)
        for name, default in self.defaults.items():
            value = value.replace(f"${{var.{name}}}", str(default))
        if "${" in value:
            raise RehearsalError(f"infra/ names a resource {template!r}: not rehearsed here.")
        return value


def terraform_names(infra: Infra, suffix: str) -> dict:
    """The bucket's, table's and parameter's names as `terraform apply` gives them."""
    return {
        "bucket": infra.render(infra.resources["aws_s3_bucket.avatars"]["bucket"], suffix),
        "table": infra.render(infra.resources["aws_dynamodb_table.users"]["name"], suffix),
        "parameter": infra.render(
            infra.resources["aws_ssm_parameter.session_secret"]["name"], suffix
        ),
    }


def terraform_attributes(infra: Infra, names: dict, region: str, account_id: str, partition="aws"):
    """What Terraform knows after `apply`, by the expression infra/outputs.tf reads it with."""
    parameter_path = (
        names["parameter"] if names["parameter"].startswith("/") else ("/" + names["parameter"])
    )
    return {
        **{f"var.{name}": default for name, default in infra.defaults.items()},
        "var.region": region,
        "aws_s3_bucket.avatars.id": names["bucket"],
        "aws_s3_bucket.avatars.arn": f"arn:{partition}:s3:::{names['bucket']}",
        "aws_dynamodb_table.users.name": names["table"],
        "aws_dynamodb_table.users.arn": (
            f"arn:{partition}:dynamodb:{region}:{account_id}:table/{names['table']}"
        ),
        "aws_ssm_parameter.session_secret.name": names["parameter"],
        "aws_ssm_parameter.session_secret.arn": (
            f"arn:{partition}:ssm:{region}:{account_id}:parameter{parameter_path}"
        ),
    }


def outputs_document(declared: dict, attributes: dict) -> dict:
    """What `terraform output -json` prints: every output `declared` (infra/
    outputs.tf), each with its value read from `attributes`."""
    document = {}
    for name, output in declared.items():
        expression = str(output["value"]).removeprefix("${").removesuffix("}")
        if expression not in attributes:
            raise RehearsalError(
                f"infra/outputs.tf: output {name!r} reads {expression}, "
                "which the rehearsal does not create."
            )
        value = attributes[expression]
        document[name] = {
            "sensitive": bool(output.get("sensitive", False)),
            "type": "number" if isinstance(value, (int, float)) else "string",
            "value": value,
        }
    return document


def bucket_hardening(infra: Infra, bucket: str) -> dict:
    """The bucket settings infra/storage.tf adds to the bucket, as the S3 API
    takes them: ownership controls, the public access block, default
    encryption and the TLS-only bucket policy."""
    ownership = infra.resources["aws_s3_bucket_ownership_controls.avatars"]["rule"][0]
    block = infra.resources["aws_s3_bucket_public_access_block.avatars"]
    encryption = infra.resources["aws_s3_bucket_server_side_encryption_configuration.avatars"]
    algorithm = encryption["rule"][0]["apply_server_side_encryption_by_default"][0]
    arn = f"arn:aws:s3:::{bucket}"
    return {
        "ownership": {"Rules": [{"ObjectOwnership": ownership["object_ownership"]}]},
        "public_access_block": {
            name: block[snake]
            for name, snake in (
                ("BlockPublicAcls", "block_public_acls"),
                ("IgnorePublicAcls", "ignore_public_acls"),
                ("BlockPublicPolicy", "block_public_policy"),
                ("RestrictPublicBuckets", "restrict_public_buckets"),
            )
        },
        "encryption": {
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm["sse_algorithm"]}}
            ]
        },
        # data.aws_iam_policy_document.tls_only, written out.
        "policy": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, f"{arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
    }
