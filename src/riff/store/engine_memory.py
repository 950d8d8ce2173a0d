"""The embedded surrealkv engine's value cache size, given before its default is worked out.

When `SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE` is not set, the engine works
out its default on the first surrealkv:// open by listing every process and
thread of the machine (sysinfo's `System::new_all`) just to read the total
memory: on a busy machine that was most of a second and ~25 MB of memory
per riff command (7,000 threads listed from /proc here). riff sets the
variable to the very default the engine would compute, from the total
memory alone, unless the user set it.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_SIZE_VARIABLE = "SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE"
_GIB = 1 << 30
_MIB = 1 << 20
_CGROUP_LIMITS = (
    Path("/sys/fs/cgroup/memory.max"),  # cgroup v2
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),  # cgroup v1
)


def default_value_cache_size(total_memory: int) -> int:
    """The engine's own default: half the memory less 1 GiB, at least 16 MiB
    (surrealdb's kvs/surrealkv/cnf.rs)."""
    return max(max(total_memory // 2 - _GIB, 0), 16 * _MIB)


def total_memory(
    meminfo: Path = Path("/proc/meminfo"), cgroup_limits: tuple[Path, ...] = _CGROUP_LIMITS
) -> int | None:
    """The memory the engine sizes its cache by: the machine's, or a lower cgroup
    limit (as sysinfo reads them); None when it cannot be read here."""
    memory: int | None = None
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        memory = None
    if memory is None:
        try:
            memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            return None
    for limit_file in cgroup_limits:
        try:
            text = limit_file.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            memory = min(memory, int(text))
        break
    return memory


def preset_value_cache_size() -> None:
    """Set the engine's cache size variable to its default unless it is set already."""
    if CACHE_SIZE_VARIABLE in os.environ:
        return
    memory = total_memory()
    if memory is not None:
        os.environ[CACHE_SIZE_VARIABLE] = str(default_value_cache_size(memory))


__all__ = ["default_value_cache_size", "preset_value_cache_size", "total_memory"]
