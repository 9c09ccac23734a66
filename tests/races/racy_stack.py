"""The local stack with a deliberately racy avatar swap: read, pause, then write.

Only for tests/races/test_races.py, to show that its checks catch the race an
atomic `UpdateItem ... ReturnValues=UPDATED_OLD` prevents.
"""

import time

from chalicelib.users import DynamoUserRepository
from devtools import local_stack

# Wide enough that concurrent finalizes read the same old avatar.
PAUSE_SECONDS = 0.2


def read_then_write(self, username, avatar_key):
    user = self.get_user(username)
    time.sleep(PAUSE_SECONDS)
    self._client.put_item(
        TableName=self._table,
        Item={
            "Username": {"S": username},
            "Name": {"S": user.name},
            "Avatar": {"S": avatar_key},
        },
    )
    return user.avatar


if __name__ == "__main__":
    DynamoUserRepository.swap_avatar = read_then_write
    local_stack.main()
