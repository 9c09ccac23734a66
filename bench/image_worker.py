"""One library making avatars in a fresh interpreter: its peak memory, and its time.

bench/image_processing.py runs it as `python -m bench.image_worker '<json>'`,
one process per library and input, so that neither library's memory (its
allocator's free lists, its caches) is charged to the other. It prints one
line of JSON.

The peak is the kernel's high-water mark of resident memory (VmHWM), reset
just before the measured call. ru_maxrss cannot be used as it is: on Linux a
child that subprocess starts begins with its parent's peak (the kernel keeps
it across exec), so a large parent hides the child's own.
"""

import gc
import json
import resource
import sys
import time
from pathlib import Path

from .peak_memory import reset_peak, status_bytes

LIBRARIES = ("Pillow", "libvips")
# libvips' settings matching chalicelib/images.py's: WebP quality 80, JPEG
# quality 85 progressive, no metadata kept.
LIBVIPS_SAVERS = {
    "webp": ("webpsave_buffer", {"Q": 80, "keep": "none"}),
    "jpeg": (
        "jpegsave_buffer",
        {"Q": 85, "keep": "none", "optimize_coding": True, "interlace": True},
    ),
}


def avatar_maker(library: str, rules: dict):
    """A function from an upload's bytes to the avatar's bytes, made by `library`.

    `rules` holds chalicelib.images.AvatarRules' fields. Each library is
    imported only here, so that a worker loads one of them.
    """
    if library == "Pillow":
        from chalicelib.images import AvatarRules, make_avatar

        avatar_rules = AvatarRules(**rules)
        return lambda data: make_avatar(data, avatar_rules).data
    if library == "libvips":
        import pyvips

        # Its operation cache would answer a repeated call from memory.
        pyvips.cache_set_max(0)
        saver, options = LIBVIPS_SAVERS[rules["output_format"]]
        max_side = rules["max_side"]

        def make(data):
            # Shrinks while it decodes where the format allows, and turns the
            # image upright by its Orientation tag.
            image = pyvips.Image.thumbnail_buffer(data, max_side, size="down", no_rotate=False)
            return getattr(image, saver)(**options)

        return make
    raise ValueError(f"unknown library {library!r}; one of {LIBRARIES}")


def measure(spec: dict) -> dict:
    make = avatar_maker(spec["library"], spec["rules"])
    # Loads the codecs and whatever each library sets up on first use, on a
    # small image: a warm-up on the input itself would leave its memory in
    # the allocator, and the measured call would reuse it unseen.
    make(Path(spec["warm_up"]).read_bytes())
    data = Path(spec["input"]).read_bytes()
    gc.collect()
    reset = reset_peak()
    baseline = status_bytes("VmRSS")
    baseline_maxrss = _ru_maxrss_bytes()
    output = make(data)
    if reset:
        peak = status_bytes("VmHWM")
    else:  # no /proc/self/clear_refs: the best the rusage figure can say
        peak = baseline + max(0, _ru_maxrss_bytes() - baseline_maxrss)
    seconds = []
    for _ in range(spec["runs"]):
        started = time.perf_counter()
        make(data)
        seconds.append(time.perf_counter() - started)
    return {
        "growth_bytes": peak - baseline,
        "peak_bytes": peak,
        "peak_method": "VmHWM" if reset else "ru_maxrss",
        "output_bytes": len(output),
        "seconds": seconds,
    }


def _ru_maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


if __name__ == "__main__":
    print(json.dumps(measure(json.loads(sys.argv[1]))))
