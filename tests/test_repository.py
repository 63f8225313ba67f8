"""The repository stands alone: no tracked file points outside it.

A user who clones the repository has only what is tracked, so no file may send them to a
folder beside the clone, to a method document that is not in the repository, or to the
tracker's issue numbers of the development history.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import ROOT

# built from pieces, so that this file does not match itself
OUTSIDE = re.compile(re.escape("..") + r"[/\\]" + "sha" + "red")
METHOD_FILE = re.compile(r"\b" + "MET" + r"HOD(?:\.md)?\b")
ISSUE = re.compile(r"\b" + "iss" + r"ues?\s*#?\d+\b", re.IGNORECASE)


def tracked_text_files():
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"not a git checkout ({err})")
    for name in filter(None, out.decode().split("\0")):
        path = ROOT / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:4096]:  # binary (images, CIFTI)
            continue
        yield name, data.decode("utf-8", errors="replace")


def test_no_tracked_file_points_outside_the_repository():
    files = dict(tracked_text_files())
    assert len(files) > 50 and "README.md" in files and "docs/method.md" in files
    faults = []
    for name, text in files.items():
        for lineno, line in enumerate(text.splitlines(), 1):
            for pattern, what in [(OUTSIDE, "a folder beside the clone"),
                                  (METHOD_FILE, "a method file not in the repository"),
                                  (ISSUE, "an issue number")]:
                if pattern.search(line):
                    faults.append(f"{name}:{lineno}: {what}: {line.strip()[:100]}")
    assert not faults, "\n".join(faults)


def test_the_patterns_find_what_they_must():
    assert OUTSIDE.search("see " + ".." + "/shared/notes.md")
    assert METHOD_FILE.search("MET" + "HOD.md section 9") and not METHOD_FILE.search("method")
    assert ISSUE.search("fixes iss" + "ue 16") and ISSUE.search("Iss" + "ue #3")
    assert not ISSUE.search("tissue 4")
