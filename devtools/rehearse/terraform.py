"""What infra/*.tf creates and `terraform output -json` prints: the resources'
names, the attributes outputs.tf reads, and the outputs document."""

import json
import re
from pathlib import Path

import hcl2

from devtools.rehearse.errors import RehearsalError

INFRA_DIR = Path(__file__).resolve().parents[2] / "infra"

# The AWS-managed CloudFront policies infra/cdn.tf finds by name, with the IDs
# AWS documents for them (the emulator has no managed policies to look up).
MANAGED_POLICY_IDS = {
    ("aws_cloudfront_cache_policy", "Managed-CachingOptimized"): (
        "658327ea-f89d-4fab-a63d-7e88639e58f6"
    ),
    ("aws_cloudfront_response_headers_policy", "Managed-SecurityHeadersPolicy"): (
        "67f7725c-6f97-4210-82d7-5512b31e9d03"
    ),
}

_REFERENCE = re.compile(r"\$\{([^{}]+)\}")


class Infra:
    """What infra/*.tf declares (parsed with python-hcl2): each variable's
    default (None for a variable without one), each resource's and data
    source's arguments by `<type>.<name>`, the locals, each output."""

    def __init__(self, directory=INFRA_DIR):
        options = hcl2.SerializationOptions(
            strip_string_quotes=True, with_comments=False, explicit_blocks=False
        )
        self.defaults, self.resources, self.data, self.locals, self.outputs = {}, {}, {}, {}, {}
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
            for block in parsed.get("data", []):
                for kind, named in block.items():
                    for name, body in named.items():
                        self.data[f"{kind}.{name}"] = body
            for block in parsed.get("locals", []):
                self.locals.update(block)
            for block in parsed.get("output", []):
                self.outputs.update(block)

    def variables(self, given: dict) -> dict:
        """Every variable's value for `terraform apply -var` of `given`:
        refuse a variable infra/ requires (no default) that `given` lacks."""
        unknown = sorted(set(given) - set(self.defaults))
        if unknown:
            raise RehearsalError(f"infra/ declares no variable {', '.join(unknown)}.")
        values = {**self.defaults, **given}
        missing = sorted(name for name, value in values.items() if value is None)
        if missing:
            raise RehearsalError(
                f"infra/ requires {', '.join(missing)} (no default), which the rehearsal "
                "does not give: add it to the rehearsal's variables."
            )
        return values

    def render(self, template: str, suffix: str, variables=None) -> str:
        """A name as Terraform makes it from `template`: the variables at
        `variables` (their defaults if None), the string locals,
        `random_id.suffix.hex` as `suffix`."""
        attributes = {
            **{f"var.{name}": value for name, value in (variables or self.defaults).items()},
            **self.string_locals(),
            "random_id.suffix.hex": suffix,
        }
        try:
            return interpolate(template, attributes)
        except RehearsalError:
            raise RehearsalError(
                f"infra/ names a resource {template!r}: not rehearsed here."
            ) from None

    def string_locals(self) -> dict:
        """`local.<name>` for each local that is a plain string (none of
        Terraform's functions), resolved against the other locals."""
        strings = {
            f"local.{name}": value
            for name, value in self.locals.items()
            if isinstance(value, str) and "(" not in value
        }
        resolved = {}
        for name, value in strings.items():
            try:
                resolved[name] = interpolate(value, strings, recursive=True)
            except RehearsalError:
                continue
        return resolved


def interpolate(value, attributes: dict, recursive=False):
    """`value` as Terraform evaluates it, each `${expression}` read from
    `attributes`: a lone reference keeps its value's type, references within
    a string become text; lists and maps are evaluated item by item."""
    if isinstance(value, list):
        return [interpolate(item, attributes, recursive) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, attributes, recursive) for key, item in value.items()}
    if not isinstance(value, str):
        return value

    def lookup(expression):
        if expression not in attributes:
            raise RehearsalError(f"{expression} is not rehearsed here")
        found = attributes[expression]
        return interpolate(found, attributes, recursive) if recursive else found

    whole = _REFERENCE.fullmatch(value)
    if whole:
        return lookup(whole.group(1))
    return _REFERENCE.sub(lambda match: str(lookup(match.group(1))), value)


def terraform_names(infra: Infra, suffix: str, variables=None) -> dict:
    """The names `terraform apply` gives what the rehearsal creates."""

    def name(address, argument="name"):
        return infra.render(infra.resources[address][argument], suffix, variables)

    return {
        "bucket": name("aws_s3_bucket.avatars", "bucket"),
        "table": name("aws_dynamodb_table.users"),
        "parameter": name("aws_ssm_parameter.session_secret"),
        "origin_access_control": name("aws_cloudfront_origin_access_control.avatars"),
        "cdn_function": name("aws_cloudfront_function.not_found"),
        "log_groups": function_log_groups(infra),
    }


def function_log_groups(infra: Infra) -> dict:
    """aws_cloudwatch_log_group.functions: each function's log group by the
    function's handler name (its `for_each` key)."""
    body = infra.resources["aws_cloudwatch_log_group.functions"]
    strings = infra.string_locals()
    # local.chalice_functions, its names resolved.
    chalice_functions = interpolate(infra.locals["chalice_functions"], strings)
    functions = interpolate(body["for_each"], {"local.chalice_functions": chalice_functions})
    return {
        handler: interpolate(body["name"], {"each.value": function})
        for handler, function in functions.items()
    }


def managed_policy_ids(infra: Infra) -> dict:
    """`data.<kind>.<name>.id` of each managed CloudFront policy infra/ looks up."""
    ids = {}
    for address, body in infra.data.items():
        kind = address.split(".", 1)[0]
        if kind in {known for known, _ in MANAGED_POLICY_IDS}:
            if (kind, body.get("name")) not in MANAGED_POLICY_IDS:
                raise RehearsalError(f"infra/ reads {address} ({body.get('name')}): not rehearsed.")
            ids[f"data.{address}.id"] = MANAGED_POLICY_IDS[(kind, body["name"])]
    return ids


def terraform_attributes(
    infra: Infra,
    names: dict,
    region: str,
    account_id: str,
    partition="aws",
    variables=None,
    cdn=None,
):
    """What Terraform knows after `apply`, by the expression infra/ reads it
    with. `cdn`: the origin access control's id, the function's ARN and the
    distribution's id, ARN and domain as the emulator made them."""
    variables = dict(variables or infra.defaults)
    variables["region"] = region
    parameter_path = (
        names["parameter"] if names["parameter"].startswith("/") else ("/" + names["parameter"])
    )
    attributes = {
        **{f"var.{name}": value for name, value in variables.items()},
        **infra.string_locals(),
        **managed_policy_ids(infra),
        "local.default_tags": interpolate(
            infra.locals["default_tags"], {f"var.{n}": v for n, v in variables.items()}
        ),
        "aws_s3_bucket.avatars.id": names["bucket"],
        "aws_s3_bucket.avatars.arn": f"arn:{partition}:s3:::{names['bucket']}",
        "aws_s3_bucket.avatars.bucket_regional_domain_name": (
            f"{names['bucket']}.s3.{region}.amazonaws.com"
        ),
        "aws_dynamodb_table.users.name": names["table"],
        "aws_dynamodb_table.users.arn": (
            f"arn:{partition}:dynamodb:{region}:{account_id}:table/{names['table']}"
        ),
        "aws_ssm_parameter.session_secret.name": names["parameter"],
        "aws_ssm_parameter.session_secret.arn": (
            f"arn:{partition}:ssm:{region}:{account_id}:parameter{parameter_path}"
        ),
        # Off by default (alarms_enabled), and so null.
        "one(aws_sns_topic.alarms[*].arn)": None,
    }
    if cdn:
        attributes.update(
            {
                "aws_cloudfront_origin_access_control.avatars.id": cdn["origin_access_control"],
                "aws_cloudfront_function.not_found.arn": cdn["function_arn"],
                "aws_cloudfront_distribution.avatars.id": cdn["id"],
                "aws_cloudfront_distribution.avatars.arn": cdn["arn"],
                "aws_cloudfront_distribution.avatars.domain_name": cdn["domain_name"],
            }
        )
    return attributes


def _terraform_type(value):
    """The type `terraform output -json` names for `value`."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return ["object", {key: _terraform_type(item) for key, item in value.items()}]
    if isinstance(value, list):
        return ["tuple", [_terraform_type(item) for item in value]]
    return "string"


def outputs_document(declared: dict, attributes: dict) -> dict:
    """What `terraform output -json` prints: every output `declared` (infra/
    outputs.tf), each with its value read from `attributes`. An output whose
    value is null is left out, as Terraform leaves it out of the state
    (hashicorp/terraform#34080)."""
    document = {}
    for name, output in declared.items():
        try:
            value = interpolate(output["value"], attributes)
        except RehearsalError as error:
            raise RehearsalError(
                f"infra/outputs.tf: output {name!r} reads {output['value']}: {error}, "
                "and the rehearsal does not create it."
            ) from None
        if value is None:
            continue
        document[name] = {
            "sensitive": bool(output.get("sensitive", False)),
            "type": _terraform_type(value),
            "value": value,
        }
    return document


def policy_document(body: dict, attributes: dict) -> dict:
    """An aws_iam_policy_document's `json`, as the provider writes it: one
    statement per block, a list of one written as its item."""

    def one_or_list(values):
        values = interpolate(values, attributes)
        return values[0] if len(values) == 1 else values

    statements = []
    for block in body["statement"]:
        statement = {}
        if "sid" in block:
            statement["Sid"] = block["sid"]
        statement["Effect"] = block.get("effect", "Allow")
        (principal,) = block["principals"]
        if principal["type"] == "*":
            statement["Principal"] = "*"
        else:
            statement["Principal"] = {principal["type"]: one_or_list(principal["identifiers"])}
        statement["Action"] = one_or_list(block["actions"])
        statement["Resource"] = one_or_list(block["resources"])
        for condition in block.get("condition", []):
            statement.setdefault("Condition", {}).setdefault(condition["test"], {})[
                condition["variable"]
            ] = one_or_list(condition["values"])
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def bucket_hardening(infra: Infra, attributes: dict) -> dict:
    """The bucket settings infra/storage.tf adds to the bucket, as the S3 API
    takes them: ownership controls, the public access block, default
    encryption and the bucket policy (TLS only; CloudFront reads avatars/)."""
    ownership = infra.resources["aws_s3_bucket_ownership_controls.avatars"]["rule"][0]
    block = infra.resources["aws_s3_bucket_public_access_block.avatars"]
    encryption = infra.resources["aws_s3_bucket_server_side_encryption_configuration.avatars"]
    algorithm = encryption["rule"][0]["apply_server_side_encryption_by_default"][0]
    policy = infra.resources["aws_s3_bucket_policy.avatars"]["policy"]
    document = _REFERENCE.fullmatch(policy).group(1).removesuffix(".json").removeprefix("data.")
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
        "policy": policy_document(infra.data[document], attributes),
    }


def _cache_behaviour(block: dict, attributes: dict) -> dict:
    behaviour = {
        "TargetOriginId": interpolate(block["target_origin_id"], attributes),
        "ViewerProtocolPolicy": block["viewer_protocol_policy"],
        "AllowedMethods": {
            "Quantity": len(block["allowed_methods"]),
            "Items": block["allowed_methods"],
            "CachedMethods": {
                "Quantity": len(block["cached_methods"]),
                "Items": block["cached_methods"],
            },
        },
        "CachePolicyId": interpolate(block["cache_policy_id"], attributes),
        "ResponseHeadersPolicyId": interpolate(block["response_headers_policy_id"], attributes),
        "Compress": bool(block.get("compress", False)),
    }
    associations = block.get("function_association", [])
    behaviour["FunctionAssociations"] = {
        "Quantity": len(associations),
        "Items": [
            {
                "EventType": association["event_type"],
                "FunctionARN": interpolate(association["function_arn"], attributes),
            }
            for association in associations
        ],
    }
    if "path_pattern" in block:
        behaviour = {"PathPattern": interpolate(block["path_pattern"], attributes), **behaviour}
    return behaviour


def origin_access_control_config(infra: Infra, names: dict) -> dict:
    body = infra.resources["aws_cloudfront_origin_access_control.avatars"]
    return {
        "Name": names["origin_access_control"],
        "Description": body["description"],
        "SigningProtocol": body["signing_protocol"],
        "SigningBehavior": body["signing_behavior"],
        "OriginAccessControlOriginType": body["origin_access_control_origin_type"],
    }


def cdn_function(infra: Infra, names: dict, directory=INFRA_DIR) -> dict:
    """aws_cloudfront_function.not_found as CreateFunction takes it."""
    body = infra.resources["aws_cloudfront_function.not_found"]
    source = re.fullmatch(r'\$\{file\("\$\{path\.module\}/([^"]+)"\)\}', body["code"])
    if not source:
        raise RehearsalError("infra/cdn.tf: the function's code is not file(...): not rehearsed.")
    return {
        "Name": names["cdn_function"],
        "FunctionConfig": {"Comment": body["comment"], "Runtime": body["runtime"]},
        "FunctionCode": (Path(directory) / source.group(1)).read_bytes(),
    }


def distribution_config(infra: Infra, attributes: dict, caller_reference: str) -> dict:
    """aws_cloudfront_distribution.avatars as CreateDistribution takes it."""
    body = infra.resources["aws_cloudfront_distribution.avatars"]
    origins = [
        {
            "Id": interpolate(origin["origin_id"], attributes),
            "DomainName": interpolate(origin["domain_name"], attributes),
            # With an origin access control, S3OriginConfig names no identity.
            "S3OriginConfig": {"OriginAccessIdentity": ""},
            "OriginAccessControlId": interpolate(origin["origin_access_control_id"], attributes),
        }
        for origin in body["origin"]
    ]
    ordered = [_cache_behaviour(block, attributes) for block in body["ordered_cache_behavior"]]
    (geo,) = body["restrictions"][0]["geo_restriction"]
    (certificate,) = body["viewer_certificate"]
    return {
        "CallerReference": caller_reference,
        "Comment": interpolate(body["comment"], attributes),
        "Enabled": body["enabled"],
        "PriceClass": interpolate(body["price_class"], attributes),
        "HttpVersion": body["http_version"],
        "IsIPV6Enabled": body["is_ipv6_enabled"],
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": _cache_behaviour(body["default_cache_behavior"][0], attributes),
        "CacheBehaviors": {"Quantity": len(ordered), "Items": ordered},
        "Restrictions": {
            "GeoRestriction": {"RestrictionType": geo["restriction_type"], "Quantity": 0}
        },
        "ViewerCertificate": {
            "CloudFrontDefaultCertificate": certificate["cloudfront_default_certificate"],
            "MinimumProtocolVersion": certificate["minimum_protocol_version"],
        },
    }


def distribution_view(config: dict) -> dict:
    """The part of a DistributionConfig the emulator keeps (moto 5.2.5 drops
    an origin's OriginAccessControlId and every FunctionAssociations)."""

    def behaviour(block):
        return {
            "PathPattern": block.get("PathPattern"),
            "TargetOriginId": block["TargetOriginId"],
            "ViewerProtocolPolicy": block["ViewerProtocolPolicy"],
            "AllowedMethods": sorted(block["AllowedMethods"]["Items"]),
            "CachedMethods": sorted(block["AllowedMethods"]["CachedMethods"]["Items"]),
            "CachePolicyId": block["CachePolicyId"],
            "ResponseHeadersPolicyId": block["ResponseHeadersPolicyId"],
        }

    certificate = config["ViewerCertificate"]
    return {
        "Enabled": config["Enabled"],
        "PriceClass": config["PriceClass"],
        "HttpVersion": config["HttpVersion"],
        "Origins": [
            {"Id": origin["Id"], "DomainName": origin["DomainName"]}
            for origin in config["Origins"]["Items"]
        ],
        "DefaultCacheBehavior": behaviour(config["DefaultCacheBehavior"]),
        "CacheBehaviors": [behaviour(block) for block in config["CacheBehaviors"].get("Items", [])],
        "ViewerCertificate": {
            "CloudFrontDefaultCertificate": certificate["CloudFrontDefaultCertificate"],
            "MinimumProtocolVersion": certificate["MinimumProtocolVersion"],
        },
    }


def seed_users(directory=INFRA_DIR) -> dict:
    """local.seed_users: infra/seed/users.json by Username."""
    users = json.loads((Path(directory) / "seed" / "users.json").read_text())
    return {user["Username"]: user for user in users}


def seed_uploads(infra: Infra, attributes: dict, directory=INFRA_DIR) -> list:
    """What terraform_data.seed_avatars's local-exec provisioner runs, one per
    seed user: (username, command, environment), its expressions evaluated."""
    body = infra.resources["terraform_data.seed_avatars"]
    (provisioner,) = body["provisioner"]
    local_exec = provisioner["local-exec"]
    uploads = []
    for username, user in seed_users(directory).items():
        each = {
            **attributes,
            "each.key": username,
            "path.module": str(directory),
            **{f"each.value.{field}": value for field, value in user.items()},
        }
        environment = {
            name: str(interpolate(value, each))
            for name, value in local_exec.get("environment", {}).items()
        }
        uploads.append((username, local_exec["command"], environment))
    return uploads
