"""The user repository: who exists and which object is each one's avatar.

An item is `{"Username": S, "Name": S, "Avatar": S}`; `Avatar` holds the key of
the user's current object under `avatars/`.
"""

from dataclasses import dataclass
from typing import Dict, List, Optional

from .sessions import MAX_USERNAME_LENGTH


@dataclass(frozen=True)
class User:
    username: str
    name: str
    avatar: Optional[str]

    def as_item(self) -> Dict[str, Optional[str]]:
        return {"Username": self.username, "Name": self.name, "Avatar": self.avatar}


class UserNotFound(Exception):
    """No item for this username."""


class DynamoUserRepository:
    def __init__(self, client, table_name: str):
        self._client = client
        self._table = table_name

    def list_users(self) -> List[User]:
        users = []
        for page in self._client.get_paginator("scan").paginate(TableName=self._table):
            users.extend(_user_from_item(item) for item in page["Items"])
        return sorted(users, key=lambda user: user.username)

    def get_user(self, username: str) -> Optional[User]:
        # No user has such a name (PUT /login refuses it), and DynamoDB would
        # refuse it as a key: an empty one, or one over 2048 bytes.
        if not 0 < len(username) <= MAX_USERNAME_LENGTH:
            return None
        # Strongly consistent: finalize reads this right after another
        # finalize may have swapped the avatar.
        answer = self._client.get_item(
            TableName=self._table,
            Key={"Username": {"S": username}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return _user_from_item(item) if item else None

    def swap_avatar(self, username: str, avatar_key: str) -> Optional[str]:
        """Point the user at `avatar_key`; return the key it pointed at before.

        One conditional write: concurrent swaps for one user are serialized by
        DynamoDB, so each caller gets back exactly the value it replaced.
        """
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key={"Username": {"S": username}},
                UpdateExpression="SET Avatar = :avatar",
                ConditionExpression="attribute_exists(Username)",
                ExpressionAttributeValues={":avatar": {"S": avatar_key}},
                ReturnValues="UPDATED_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise UserNotFound(username) from None
        return answer.get("Attributes", {}).get("Avatar", {}).get("S")


class InMemoryUserRepository:
    """The same methods over a dict: for tests of code that only needs users."""

    def __init__(self, users=()):
        self._users = {user.username: user for user in users}

    def list_users(self) -> List[User]:
        return sorted(self._users.values(), key=lambda user: user.username)

    def get_user(self, username: str) -> Optional[User]:
        return self._users.get(username)

    def swap_avatar(self, username: str, avatar_key: str) -> Optional[str]:
        if username not in self._users:
            raise UserNotFound(username)
        old = self._users[username]
        self._users[username] = User(old.username, old.name, avatar_key)
        return old.avatar


def _user_from_item(item) -> User:
    return User(
        username=item["Username"]["S"],
        name=item.get("Name", {}).get("S", ""),
        avatar=item.get("Avatar", {}).get("S"),
    )
