"""Shell completion: what TAB offers for a corpus or a model file.

``lmtoy --install-completion`` installs typer's script for the user's shell; the script
calls lmtoy back with ``_LMTOY_COMPLETE`` set, and click asks these functions for the
argument being completed. They use the standard library alone (no numpy, no core
module), so a TAB press costs no more than loading the command.
"""

from __future__ import annotations

import os
from pathlib import Path

import lmtoy

BUNDLED = Path(lmtoy.__file__).parent / "corpora"  # = lmtoy.corpus.BUNDLED (not imported: it loads numpy)
LIMIT = 200  # entries offered at most


def bundled_names() -> list[str]:
    """The bundled corpora by the names CORPUS takes: show_me, battery, ..."""
    try:
        return sorted(p.stem for p in BUNDLED.glob("*.txt"))
    except OSError:
        return []


def paths(incomplete: str, suffixes: tuple[str, ...] = ()) -> list[str]:
    """Files and folders (ending in /) whose path starts with ``incomplete``; with
    ``suffixes``, only the files that end in one of them. 'corp' -> ['corpora/']."""
    folder, _, start = incomplete.rpartition("/")
    base = Path(os.path.expanduser(folder + "/")) if folder else Path(".")
    prefix = folder + "/" if folder else ""
    try:
        entries = sorted((e for e in os.scandir(base) if e.name.startswith(start) and (start or e.name[0] != ".")),
                         key=lambda e: e.name)
    except OSError:
        return []
    out = []
    for entry in entries[:LIMIT]:
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            out.append(prefix + entry.name + "/")
        elif not suffixes or entry.name.endswith(suffixes):
            out.append(prefix + entry.name)
    return out


def complete_corpus(incomplete: str) -> list[str]:
    """A CORPUS: the bundled names that start with ``incomplete``, then files and folders.
    'sh' -> ['show_me', ...files starting with sh]."""
    names = [n for n in bundled_names() if n.startswith(incomplete)] if "/" not in incomplete else []
    return names + [p for p in paths(incomplete) if p not in names]


def complete_model(incomplete: str) -> list[str]:
    """A model file: the .npz files and the folders that start with ``incomplete``."""
    return paths(incomplete, (".npz",))
