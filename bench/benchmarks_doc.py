"""Write one benchmark's section of docs/benchmarks.md, leaving the other sections as they are.

Each benchmark owns a level-2 section ("## Pages", "## Memory (web)", ...).
Inside it, the script's output sits between two HTML comments; text after the
closing comment (a hand-written analysis) survives a rerun.
"""

from pathlib import Path

HEADER = """# Benchmarks

Targets from issue 5, measured on one machine; these are measurements, not timed tests.
Each section says how to rerun it. Sections are written by the scripts under `bench/`
between `<!-- generated:... -->` comments; text after a section's `end` comment is kept on reruns.
"""


def section_write(path: Path, heading: str, key: str, body: str) -> None:
    """Put `body` into section `## heading` (created at the end if missing), between `key`'s markers."""
    text = path.read_text() if path.exists() else HEADER
    begin, end = f"<!-- generated:{key} begin -->", f"<!-- generated:{key} end -->"
    generated = f"{begin}\n{body.strip()}\n{end}"
    lines = text.splitlines()
    title = f"## {heading}"
    if title not in lines:
        path.write_text(text.rstrip() + f"\n\n{title}\n\n{generated}\n")
        return
    start = lines.index(title)
    stop = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    section = "\n".join(lines[start:stop])
    if begin in section and end in section:
        before, _, rest = section.partition(begin)
        _, _, after = rest.partition(end)
        section = f"{before}{generated}{after}"
    else:
        section = f"{title}\n\n{generated}\n"
    head, tail = "\n".join(lines[:start]), "\n".join(lines[stop:])
    new = f"{head.rstrip()}\n\n{section.strip()}\n"
    if tail.strip():
        new += f"\n{tail.strip()}\n"
    path.write_text(new)
