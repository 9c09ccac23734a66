"""`make run`: the whole app on this machine, with an embedded AWS emulator.

1. Starts a moto server on 127.0.0.1:$MOTO_PORT (default 5000), unless
   AWS_ENDPOINT_URL already names an emulator to use.
2. Creates what Terraform creates on AWS (devtools/provision.py).
3. Bridges S3 events to the Lambda handler: the bucket notifies an SQS queue,
   and a thread hands each message to the same function AWS would invoke.
4. Serves the app as `chalice local --stage local` does, on 127.0.0.1:$PORT
   (default 8000), and prints the URL. Ctrl-C stops everything.

Port 0 for either picks a free one (the integration tests do that).
"""

import json
import os
import sys
import threading
from pathlib import Path

import boto3
import chalice.local
from chalice.cli import create_local_server
from chalice.cli.factory import CLIFactory

from chalicelib.settings import Settings
from devtools import local_gateway
from devtools.emulator import Emulator
from devtools.provision import connect_pending_events, pending_events_queue_name, provision

ROOT = Path(__file__).resolve().parent.parent
STAGE = "local"
EVENT_HANDLER = "log_pending_upload"
DEVELOPMENT_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def main():
    for name, value in DEVELOPMENT_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    factory = CLIFactory(project_dir=str(ROOT), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=STAGE)
    os.environ.update(config.environment_variables)

    emulator = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        emulator = Emulator(int(os.environ.get("MOTO_PORT", "5000")))
        os.environ["AWS_ENDPOINT_URL"] = emulator.endpoint_url
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    s3_on_moto = emulator is not None and not os.environ.get("AWS_ENDPOINT_URL_S3")
    if s3_on_moto:
        # Avatars from one stable URL each, as CloudFront serves them on AWS,
        # so a browser keeps them: moto's plain object URL (readable below).
        # Another S3 (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3: LocalStack) may
        # check more: there they stay presigned.
        bucket = os.environ["AVATAR_BUCKET"]
        os.environ.setdefault("AVATAR_BASE_URL", f"{emulator.endpoint_url}/{bucket}/")

    settings = Settings.from_environ(os.environ)
    s3 = boto3.client("s3", region_name=settings.region)
    sqs = boto3.client("sqs", region_name=settings.region)
    provision(s3, boto3.client("dynamodb", region_name=settings.region), settings)
    if s3_on_moto and settings.avatar_base_url:
        allow_anonymous_avatar_reads(s3, settings)
    queue_url = connect_pending_events(s3, sqs, settings, pending_events_queue_name(settings))

    local_gateway.apply()
    # Without this every response on a keep-alive connection stalls ~40 ms
    # (Nagle's algorithm against chalice local's two sends per response).
    chalice.local.ChaliceRequestHandler.disable_nagle_algorithm = True
    # socketserver's listen backlog of 5 resets connections when a page (or a
    # test) opens more at once; Lambda behind API Gateway has no such limit.
    chalice.local.ThreadedHTTPServer.request_queue_size = 128
    server = create_local_server(factory, "127.0.0.1", int(os.environ.get("PORT", "8000")), STAGE)
    # The app module is imported once: this is the object the server routes to.
    handler = config.chalice_app.handler_map[EVENT_HANDLER]
    stop = threading.Event()
    bridge = threading.Thread(
        target=_bridge_events, args=(sqs, queue_url, handler, stop), daemon=True
    )
    bridge.start()

    host, port = server.server.server_address[:2]
    print(f"Emulator: {endpoint}", flush=True)
    print(f"App:      http://{host}:{port}/  (Ctrl-C stops)", flush=True)
    try:
        server.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server.server_close()
        bridge.join(timeout=5)
        if emulator is not None:
            emulator.stop()


def allow_anonymous_avatar_reads(s3, settings):
    """The local stand-in for CloudFront's read access (infra/ gives only the
    distribution that): anyone may GET `avatars/*`, nothing else. moto serves
    an unsigned GET only where a bucket policy allows it."""
    bucket_arn = f"arn:aws:s3:::{settings.bucket_name}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LocalStandInForCloudFront",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"{bucket_arn}/{settings.avatar_prefix}*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=settings.bucket_name, Policy=json.dumps(policy))


def _bridge_events(sqs, queue_url, handler, stop):
    """Deliver each S3 notification on the queue to the Lambda handler."""
    while not stop.is_set():
        try:
            answer = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
        except Exception as error:  # the emulator is going away: stop quietly
            if not stop.is_set():
                print(f"event bridge: {error}", file=sys.stderr, flush=True)
            return
        for message in answer.get("Messages", []):
            event = json.loads(message["Body"])
            # S3 sends one s3:TestEvent when the notification is configured.
            if "Records" in event:
                handler(event, None)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


if __name__ == "__main__":
    main()
