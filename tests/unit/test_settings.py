"""Unit tests for chalicelib.settings.Settings.from_environ, given plain dicts."""

import dataclasses

import pytest

from chalicelib.settings import AVATAR_FORMATS, Settings, SettingsError


def _environ(**overrides):
    """A complete `local`-like environment; a value of None removes the name."""
    environ = {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AVATAR_BUCKET": "avatars-test",
        "USERS_TABLE": "users-test",
        "SESSION_SECRET": "a-test-secret",
    }
    for name, value in overrides.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return environ


def test_a_complete_environment_gives_its_settings():
    settings = Settings.from_environ(_environ())
    assert settings.region == "eu-west-1"
    assert settings.bucket_name == "avatars-test"
    assert settings.table_name == "users-test"
    assert settings.session_secret == "a-test-secret"
    assert settings.session_secret_parameter is None
    assert settings.aws_endpoint_url is None


def test_unset_numbers_take_their_defaults():
    settings = Settings.from_environ(_environ())
    assert settings.max_upload_bytes == 10 * 1024 * 1024
    assert settings.avatar_max_side == 512
    assert settings.max_image_pixels == 50_000_000
    assert settings.avatar_format == "webp"
    assert settings.upload_expires_seconds == 600
    assert settings.avatar_url_expires_seconds == 3600
    assert settings.session_ttl_seconds == 43200


def test_empty_numbers_take_their_defaults():
    settings = Settings.from_environ(_environ(MAX_UPLOAD_BYTES="", UPLOAD_EXPIRES_SECONDS=""))
    assert settings.max_upload_bytes == 10 * 1024 * 1024
    assert settings.upload_expires_seconds == 600


def test_numbers_given_are_read_as_ints():
    settings = Settings.from_environ(
        _environ(
            MAX_UPLOAD_BYTES="2048",
            UPLOAD_EXPIRES_SECONDS="30",
            AVATAR_URL_EXPIRES_SECONDS="60",
            SESSION_TTL_SECONDS="120",
            AVATAR_MAX_SIDE="256",
            MAX_IMAGE_PIXELS="1000000",
        )
    )
    assert settings.max_upload_bytes == 2048
    assert settings.avatar_max_side == 256
    assert settings.max_image_pixels == 1_000_000
    assert settings.upload_expires_seconds == 30
    assert settings.avatar_url_expires_seconds == 60
    assert settings.session_ttl_seconds == 120


@pytest.mark.parametrize("value, expected", [("webp", "webp"), ("jpeg", "jpeg"), ("JPEG", "jpeg")])
def test_the_avatar_format_is_webp_or_jpeg(value, expected):
    assert Settings.from_environ(_environ(AVATAR_FORMAT=value)).avatar_format == expected


def test_an_avatar_side_no_webp_could_hold_is_refused():
    assert Settings.from_environ(_environ(AVATAR_MAX_SIDE="16383")).avatar_max_side == 16383
    with pytest.raises(SettingsError, match="at most 16383"):
        Settings.from_environ(_environ(AVATAR_MAX_SIDE="16384"))


def test_an_unknown_avatar_format_is_refused_naming_the_choices():
    with pytest.raises(SettingsError, match="webp, jpeg"):
        Settings.from_environ(_environ(AVATAR_FORMAT="png"))


def test_every_avatar_format_setting_is_one_the_encoder_knows():
    from chalicelib.images import OUTPUT_FORMATS

    assert set(AVATAR_FORMATS) == set(OUTPUT_FORMATS)


def test_the_prefixes_are_the_apps_own():
    settings = Settings.from_environ(_environ())
    assert settings.pending_prefix == "pending/"
    assert settings.avatar_prefix == "avatars/"
    assert settings.web_prefix == "web/"


def test_settings_are_frozen():
    settings = Settings.from_environ(_environ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.bucket_name = "other"


@pytest.mark.parametrize("name", ["AVATAR_BUCKET", "USERS_TABLE"])
def test_a_missing_required_name_is_a_settings_error_that_names_it(name):
    with pytest.raises(SettingsError, match=name):
        Settings.from_environ(_environ(**{name: None}))


@pytest.mark.parametrize("name", ["AVATAR_BUCKET", "USERS_TABLE"])
def test_an_empty_required_name_is_a_settings_error_that_names_it(name):
    with pytest.raises(SettingsError, match=name):
        Settings.from_environ(_environ(**{name: ""}))


def test_a_missing_region_is_a_settings_error_naming_both_variables():
    with pytest.raises(SettingsError) as raised:
        Settings.from_environ(_environ(AWS_DEFAULT_REGION=None))
    message = str(raised.value)
    assert "AWS_REGION" in message
    assert "AWS_DEFAULT_REGION" in message


def test_the_region_comes_from_aws_region_when_only_it_is_set():
    settings = Settings.from_environ(_environ(AWS_DEFAULT_REGION=None, AWS_REGION="us-west-2"))
    assert settings.region == "us-west-2"


def test_aws_region_wins_over_aws_default_region():
    settings = Settings.from_environ(_environ(AWS_REGION="us-west-2"))
    assert settings.region == "us-west-2"


def test_an_empty_aws_region_falls_back_to_aws_default_region():
    settings = Settings.from_environ(_environ(AWS_REGION=""))
    assert settings.region == "eu-west-1"


def test_the_secret_parameter_alone_is_accepted():
    settings = Settings.from_environ(
        _environ(SESSION_SECRET=None, SESSION_SECRET_PARAMETER="/avatars/dev/session-secret")
    )
    assert settings.session_secret is None
    assert settings.session_secret_parameter == "/avatars/dev/session-secret"


def test_both_the_secret_and_its_parameter_is_a_settings_error():
    with pytest.raises(SettingsError, match="SESSION_SECRET_PARAMETER"):
        Settings.from_environ(_environ(SESSION_SECRET_PARAMETER="/avatars/dev/session-secret"))


def test_neither_the_secret_nor_its_parameter_is_a_settings_error():
    with pytest.raises(SettingsError) as raised:
        Settings.from_environ(_environ(SESSION_SECRET=None))
    assert "SESSION_SECRET" in str(raised.value)
    assert "SESSION_SECRET_PARAMETER" in str(raised.value)


def test_empty_secret_and_empty_parameter_count_as_neither():
    with pytest.raises(SettingsError):
        Settings.from_environ(_environ(SESSION_SECRET="", SESSION_SECRET_PARAMETER=""))


def test_an_empty_secret_beside_a_parameter_counts_as_the_parameter_alone():
    settings = Settings.from_environ(_environ(SESSION_SECRET="", SESSION_SECRET_PARAMETER="/p"))
    assert settings.session_secret is None
    assert settings.session_secret_parameter == "/p"


def test_an_empty_environment_is_a_settings_error():
    with pytest.raises(SettingsError):
        Settings.from_environ({})


def test_a_settings_error_is_a_runtime_error():
    assert issubclass(SettingsError, RuntimeError)


@pytest.mark.parametrize(
    "name",
    [
        "MAX_UPLOAD_BYTES",
        "UPLOAD_EXPIRES_SECONDS",
        "AVATAR_URL_EXPIRES_SECONDS",
        "SESSION_TTL_SECONDS",
    ],
)
@pytest.mark.parametrize("raw", ["abc", "0", "-5", "1.5", "1e3"])
def test_a_number_that_is_not_a_positive_whole_number_is_a_settings_error(name, raw):
    with pytest.raises(SettingsError) as raised:
        Settings.from_environ(_environ(**{name: raw}))
    assert name in str(raised.value)


def test_a_non_numeric_setting_error_quotes_the_bad_value():
    with pytest.raises(SettingsError, match="'abc'"):
        Settings.from_environ(_environ(MAX_UPLOAD_BYTES="abc"))


def test_a_settings_error_for_a_bad_number_does_not_chain_the_value_error():
    with pytest.raises(SettingsError) as raised:
        Settings.from_environ(_environ(MAX_UPLOAD_BYTES="abc"))
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__ is True


def test_secure_cookies_default_to_true():
    assert Settings.from_environ(_environ()).secure_cookies is True


@pytest.mark.parametrize("raw", ["true", "True", "TRUE"])
def test_secure_cookies_true_in_any_case_is_true(raw):
    assert Settings.from_environ(_environ(SECURE_COOKIES=raw)).secure_cookies is True


@pytest.mark.parametrize("raw", ["false", "False", "FALSE"])
def test_secure_cookies_false_turns_them_off(raw):
    assert Settings.from_environ(_environ(SECURE_COOKIES=raw)).secure_cookies is False


def test_the_s3_endpoint_url_wins_over_the_general_endpoint_url():
    settings = Settings.from_environ(
        _environ(AWS_ENDPOINT_URL="http://general:5000", AWS_ENDPOINT_URL_S3="http://s3:5001")
    )
    assert settings.aws_endpoint_url == "http://s3:5001"


def test_the_general_endpoint_url_is_used_without_an_s3_one():
    settings = Settings.from_environ(_environ(AWS_ENDPOINT_URL="http://general:5000"))
    assert settings.aws_endpoint_url == "http://general:5000"


def test_an_empty_s3_endpoint_url_falls_back_to_the_general_one():
    settings = Settings.from_environ(
        _environ(AWS_ENDPOINT_URL="http://general:5000", AWS_ENDPOINT_URL_S3="")
    )
    assert settings.aws_endpoint_url == "http://general:5000"


def test_empty_endpoint_urls_mean_none():
    settings = Settings.from_environ(_environ(AWS_ENDPOINT_URL="", AWS_ENDPOINT_URL_S3=""))
    assert settings.aws_endpoint_url is None


def test_secure_cookies_empty_is_the_default_true():
    assert Settings.from_environ(_environ(SECURE_COOKIES="")).secure_cookies is True


@pytest.mark.parametrize("raw", ["1", "yes", "flase"])
def test_secure_cookies_anything_but_true_or_false_is_refused(raw):
    with pytest.raises(SettingsError, match="SECURE_COOKIES"):
        Settings.from_environ(_environ(SECURE_COOKIES=raw))


def test_without_a_base_url_avatars_are_presigned_and_the_debug_views_off():
    settings = Settings.from_environ(_environ())
    assert settings.avatar_base_url is None
    assert settings.debug_routes is False


@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://d111111abcdef8.cloudfront.net/", "https://d111111abcdef8.cloudfront.net/"),
        ("https://d111111abcdef8.cloudfront.net", "https://d111111abcdef8.cloudfront.net/"),
        ("http://127.0.0.1:5000/avatars-local", "http://127.0.0.1:5000/avatars-local/"),
    ],
)
def test_the_avatar_base_url_ends_with_one_slash_for_keys_to_follow(value, expected):
    assert Settings.from_environ(_environ(AVATAR_BASE_URL=value)).avatar_base_url == expected


@pytest.mark.parametrize(
    "value", ["cdn.example.com", "ftp://cdn.example/", "https://cdn.example/?a=1", "https:// x/"]
)
def test_a_base_url_that_is_not_a_plain_http_url_is_refused(value):
    with pytest.raises(SettingsError, match="AVATAR_BASE_URL"):
        Settings.from_environ(_environ(AVATAR_BASE_URL=value))


@pytest.mark.parametrize("value, expected", [("true", True), ("false", False), ("TRUE", True)])
def test_the_debug_views_are_on_only_when_a_stage_says_so(value, expected):
    assert Settings.from_environ(_environ(DEBUG_ROUTES=value)).debug_routes is expected
