"""The committed seed under infra/seed/ is what devtools/seed.py generates."""

import io
import json

from PIL import Image

from devtools.seed import SEED_DIR, USERS_FILE, image_file, load_seed, write_seed


def test_the_committed_seed_is_reproduced_byte_for_byte(tmp_path):
    users = write_seed(tmp_path)
    assert (tmp_path / USERS_FILE).read_text() == (SEED_DIR / USERS_FILE).read_text()
    for user in users:
        assert (tmp_path / image_file(user)).read_bytes() == (
            SEED_DIR / image_file(user)
        ).read_bytes()


def test_the_seed_has_three_users_with_distinct_png_avatars_under_avatars():
    seeded = load_seed()
    assert len(seeded) == 3
    assert len({user["Username"] for user, _ in seeded}) == 3
    assert len({image for _, image in seeded}) == 3
    for user, image in seeded:
        assert set(user) == {"Username", "Name", "Avatar"}
        assert user["Avatar"].startswith("avatars/") and len(user["Avatar"]) == 8 + 32
        assert Image.open(io.BytesIO(image)).format == "PNG"
    assert json.loads((SEED_DIR / USERS_FILE).read_text()) == [user for user, _ in seeded]
