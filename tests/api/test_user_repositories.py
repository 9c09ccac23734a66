"""The DynamoDB repository and the in-memory one keep the same contract."""

import pytest

from chalicelib import aws as app_aws
from chalicelib.users import DynamoUserRepository, InMemoryUserRepository, User, UserNotFound
from tests.conftest import SEED_USERS

SEEDED = [User(u["Username"], u["Name"], u["Avatar"]) for u in SEED_USERS]


@pytest.fixture(params=["dynamodb", "memory"])
def users(request):
    if request.param == "memory":
        return InMemoryUserRepository(SEEDED)
    table_name = request.getfixturevalue("aws").settings.table_name
    return DynamoUserRepository(app_aws.dynamodb_client(), table_name)


def test_list_users_gives_everybody_sorted_by_username(users):
    assert users.list_users() == sorted(SEEDED, key=lambda user: user.username)


def test_get_user_finds_a_user_and_gives_none_for_a_stranger(users):
    assert users.get_user(SEEDED[0].username) == SEEDED[0]
    assert users.get_user("nobody") is None


def test_swap_avatar_returns_the_old_key_and_stores_the_new_one(users):
    old = users.swap_avatar(SEEDED[0].username, "avatars/" + "a" * 32)
    assert old == SEEDED[0].avatar
    assert users.get_user(SEEDED[0].username).avatar == "avatars/" + "a" * 32
    assert users.swap_avatar(SEEDED[0].username, "avatars/" + "b" * 32) == "avatars/" + "a" * 32


def test_swap_avatar_for_a_stranger_raises_and_creates_nobody(users):
    with pytest.raises(UserNotFound):
        users.swap_avatar("nobody", "avatars/" + "a" * 32)
    assert users.get_user("nobody") is None
    assert len(users.list_users()) == len(SEEDED)
