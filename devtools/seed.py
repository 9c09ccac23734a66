"""Generate the seed users and their avatars under infra/seed/.

The output is committed: the local stack and Terraform read the same files.
Run again (`.venv/bin/python -m devtools.seed`) only to change the seed; the
fixed seeds make it reproduce the committed files byte for byte.
"""

import json
import random
from pathlib import Path

from faker import Faker
from PIL import Image, ImageDraw

SEED_DIR = Path(__file__).resolve().parent.parent / "infra" / "seed"
USERS_FILE = "users.json"
SEED = 20261124
USER_COUNT = 3
IMAGE_SIZE = 256
# Background and figure colours, one pair per user.
PALETTE = [
    ((38, 70, 83), (233, 196, 106)),
    ((42, 157, 143), (244, 162, 97)),
    ((231, 111, 81), (38, 70, 83)),
]


def make_users(count=USER_COUNT, seed=SEED):
    fake = Faker("en_US")
    fake.seed_instance(seed)
    keys = random.Random(seed)
    return [
        {
            "Username": fake.unique.user_name(),
            "Name": fake.name(),
            "Avatar": f"avatars/{keys.getrandbits(128):032x}",
        }
        for _ in range(count)
    ]


def draw_avatar(index, size=IMAGE_SIZE) -> Image.Image:
    """A head-and-shoulders silhouette, distinct per user."""
    background, figure = PALETTE[index % len(PALETTE)]
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    head = size * (0.18 + 0.02 * index)
    centre = size / 2
    draw.ellipse((centre - head, size * 0.2, centre + head, size * 0.2 + 2 * head), fill=figure)
    draw.ellipse((size * 0.15, size * 0.68, size * 0.85, size * 1.3), fill=figure)
    return image


def image_file(user) -> str:
    return f"{user['Username']}.png"


def write_seed(directory=SEED_DIR):
    directory.mkdir(parents=True, exist_ok=True)
    users = make_users()
    for index, user in enumerate(users):
        draw_avatar(index).save(directory / image_file(user), format="PNG", optimize=True)
    (directory / USERS_FILE).write_text(json.dumps(users, indent=2) + "\n")
    return users


def load_seed(directory=SEED_DIR):
    """The committed users, each with the bytes of its avatar image."""
    users = json.loads((directory / USERS_FILE).read_text())
    return [(user, (directory / image_file(user)).read_bytes()) for user in users]


if __name__ == "__main__":
    for user in write_seed():
        print(f"{user['Username']:<20} {user['Name']:<24} {user['Avatar']}")
