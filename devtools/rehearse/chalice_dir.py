"""Snapshot and restore of this checkout's .chalice/, which the rehearsal's
configure step and `chalice deploy` write into."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHALICE_DIR = ROOT / ".chalice"


def snapshot_chalice_dir(directory=CHALICE_DIR) -> dict:
    """Every file under `directory`, by path relative to it, with its bytes;
    Chalice's package cache (`deployments/`, large, only ever added to) by name only."""
    files = {}
    for path in sorted(Path(directory).rglob("*")):
        if path.is_file():
            relative = path.relative_to(directory).as_posix()
            files[relative] = None if relative.startswith("deployments/") else path.read_bytes()
    return files


def restore_chalice_dir(before: dict, written: dict, directory=CHALICE_DIR):
    """Put `directory` back as the snapshot `before` holds it; return the paths
    restored, removed and left alone.

    `written` is the snapshot taken just after this run wrote its files: a file
    that differs from it was changed by someone else meanwhile (this checkout
    has other editors), and is left as it is, and named, rather than overwritten.
    Files under `deployed/` and `deployments/` are only ever Chalice's.
    """
    directory = Path(directory)
    now = snapshot_chalice_dir(directory)
    restored, removed, left = [], [], []
    for relative in sorted(set(before) | set(now)):
        path = directory / relative
        chalices = relative.startswith(("deployed/", "deployments/"))
        if relative not in now:
            if before[relative] is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(before[relative])
                restored.append(relative)
        elif relative not in before:
            if chalices or now[relative] == written.get(relative):
                path.unlink()
                removed.append(relative)
            else:
                left.append(relative)
        elif now[relative] != before[relative]:
            if chalices or now[relative] == written.get(relative):
                path.write_bytes(before[relative])
                restored.append(relative)
            else:
                left.append(relative)
    for folder in ("deployed", "deployments"):
        path = directory / folder
        existed = any(relative.startswith(folder + "/") for relative in before)
        if path.is_dir() and not existed and not any(path.iterdir()):
            path.rmdir()
    return restored, removed, left
