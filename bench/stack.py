"""The stack under measurement: one the benchmark starts, or one already running.

Either way the benchmark talks to the app over HTTP, as a browser does, and to
the emulator directly with boto3, for the floors it compares the app against
and for the data it prepares (its own users, filler objects).
"""

import contextlib
import os
from dataclasses import dataclass, field
from typing import Dict

import boto3
from botocore.config import Config
from chalice.cli.factory import CLIFactory

from chalicelib.aws import CLIENT_OPTIONS
from chalicelib.settings import Settings
from devtools.local_stack import DEVELOPMENT_CREDENTIALS, STAGE
from devtools.provision import pending_events_queue_name
from devtools.stack_process import ROOT, running_emulator, running_stack


@dataclass(frozen=True)
class Stack:
    app_url: str
    emulator_url: str
    settings: Settings
    s3: object
    dynamodb: object
    sqs: object
    # The queue the local stack's event bridge reads (devtools/provision.py).
    event_queue_url: str
    # The processes the benchmark started, by role ("emulator", "app"); none
    # for a stack that was already running.
    process_ids: Dict[str, int] = field(default_factory=dict)

    @property
    def started_here(self) -> bool:
        return bool(self.process_ids)


@contextlib.contextmanager
def open_stack(recording_path):
    """BENCH_APP_URL and BENCH_EMULATOR_URL name a running stack; else start one.

    The stack started here runs the emulator in a process of its own, unlike
    `make run`: in one process the app's requests wait for the GIL behind the
    emulator's work, a cost the app would not pay on AWS.
    """
    app_url = os.environ.get("BENCH_APP_URL")
    if app_url:
        emulator_url = os.environ.get("BENCH_EMULATOR_URL", "http://127.0.0.1:5000")
        yield _connect(app_url, emulator_url, {})
        return
    # moto's request log goes to this file (it is read back over HTTP).
    recording = {"MOTO_RECORDER_FILEPATH": str(recording_path)}
    with running_emulator(recording) as emulator:
        with running_stack(extra_environ={"AWS_ENDPOINT_URL": emulator["url"]}) as app:
            process_ids = {"emulator": emulator["pid"], "app": app["pid"]}
            yield _connect(app["url"], emulator["url"], process_ids)


def stage_environment():
    """The local stage's variables, as `chalice local --stage local` sets them."""
    factory = CLIFactory(project_dir=str(ROOT), environ=dict(os.environ))
    config = factory.create_config_obj(chalice_stage_name=STAGE)
    return {**DEVELOPMENT_CREDENTIALS, **config.environment_variables}


def _connect(app_url, emulator_url, process_ids):
    environ = {**stage_environment(), "AWS_ENDPOINT_URL": emulator_url}
    settings = Settings.from_environ(environ)
    session = boto3.session.Session(
        aws_access_key_id=environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environ["AWS_SECRET_ACCESS_KEY"],
        region_name=settings.region,
    )

    def client(service, **options):
        # The app's own client options, so that the direct calls are a fair
        # floor; a pool as large as the heaviest concurrency used here.
        config = Config(max_pool_connections=64, **CLIENT_OPTIONS, **options)
        return session.client(service, endpoint_url=emulator_url, config=config)

    sqs = client("sqs")
    return Stack(
        app_url=app_url.rstrip("/") + "/",
        emulator_url=emulator_url.rstrip("/"),
        settings=settings,
        s3=client("s3", signature_version="s3v4"),
        dynamodb=client("dynamodb"),
        sqs=sqs,
        event_queue_url=sqs.get_queue_url(QueueName=pending_events_queue_name(settings))[
            "QueueUrl"
        ],
        process_ids=process_ids,
    )


def stage_settings() -> Settings:
    """The local stage's settings, as the app reads them."""
    return Settings.from_environ(stage_environment())
