"""Parse throughput of an 834 file: read_834 over the whole file, pyx12 over its first K members.

    python -m bench.eligibility.parse FILE [--pyx12-members 20000] [--json]

Each parser runs in its own process (one core), timed inside that process (interpreter start-up not
counted), and its peak resident memory is read from ``wait4`` (so it is that process's alone, imports
included). read_834 maps every member to a MemberRecord (parse only, nothing stored). pyx12 validates the
same content against its 005010X220A1 map, which is far slower, so it reads a copy of the file cut after
the first K members (the same bytes, with SE/GE/IEA counts fixed); members per second are comparable.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.run import pyx12_validate, run_child

from openipa.edi.t834 import MemberRecord, read_834
from openipa.edi.x12.envelope import EnvelopeReader

ROOT = Path(__file__).resolve().parents[2]
PYX12_MEMBERS = 20_000


def cut_after(source: Path, target: Path, members: int) -> int:
    """Copy ``source`` (one 834 transaction set) up to its ``members``-th member, closed by SE/GE/IEA.

    Returns the number of members copied (all of them when the file has fewer).
    """
    reader = EnvelopeReader(source)
    seen = 0
    for header, batch, start, stop in reader.batches():
        for index in range(start, stop):
            if batch.elements[index][0] != "INS":
                continue
            seen += 1
            if seen <= members:
                continue
            offset = batch.offset_of(index)
            group = header.group
            interchange = group.interchange
            d = interchange.delimiters
            sep, term = d.element, d.segment
            count = batch.number + index - header.segment.number + 1  # ST .. the last member, and SE
            trailer = (
                f"SE{sep}{count}{sep}{header.control_number}{term}"
                f"GE{sep}1{sep}{group.control_number}{term}"
                f"IEA{sep}1{sep}{interchange.control_number}{term}"
            )
            with source.open("rb") as src, target.open("wb") as dst:
                left = offset
                while left:
                    chunk = src.read(min(left, 1 << 20))
                    dst.write(chunk)
                    left -= len(chunk)
                dst.write(trailer.encode("latin-1"))
            return members
    target.write_bytes(source.read_bytes())
    return seen


def _child_read_834(path: Path) -> dict[str, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    members = 0
    for item in read_834(path):
        if isinstance(item, MemberRecord):
            members += 1
    return {
        "members": members,
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
    }


def parse(path: Path, pyx12_members: int = PYX12_MEMBERS) -> list[dict[str, Any]]:
    """Both parsers on ``path``; one result row each (pyx12's row holds the ratio)."""
    size_mib = round(path.stat().st_size / 2**20, 1)
    ours, ours_rss = run_child("bench.eligibility.parse", "read_834", path)
    rows: list[dict[str, Any]] = [
        {
            "case": "read_834 (parse only)",
            "members": ours["members"],
            "seconds": round(ours["seconds"], 2),
            "cpu_seconds": round(ours["cpu_seconds"], 2),
            "per_second": round(ours["members"] / ours["seconds"]),
            "unit": "members/s",
            "peak_mib": ours_rss,
            "file_mib": size_mib,
        }
    ]
    if pyx12_members <= 0:
        return rows
    with tempfile.TemporaryDirectory(prefix="openipa-bench-pyx12-") as tmp:
        prefix = Path(tmp) / f"first-{pyx12_members}.834"
        members = cut_after(path, prefix, pyx12_members)
        theirs, theirs_rss = run_child("bench.eligibility.parse", "pyx12", prefix)
        prefix_mib = round(prefix.stat().st_size / 2**20, 1)
    theirs_rate = members / theirs["seconds"]
    rows.append(
        {
            "case": f"pyx12 validation (first {members:,} members)",
            "members": members,
            "seconds": round(theirs["seconds"], 2),
            "cpu_seconds": round(theirs["cpu_seconds"], 2),
            "per_second": round(theirs_rate),
            "unit": "members/s",
            "peak_mib": theirs_rss,
            "file_mib": prefix_mib,
            "valid": theirs["valid"],
            "errors": theirs["errors"],
            "first_errors": theirs["first_errors"],
            "ratio": round(rows[0]["per_second"] / theirs_rate, 1),
        }
    )
    return rows


def describe(rows: list[dict[str, Any]]) -> list[str]:
    """Plain-language lines for the parse rows (what was measured, the ratio, pyx12's verdict)."""
    lines = [
        f"read_834: {rows[0]['members']:,} members ({rows[0]['file_mib']} MiB) in {rows[0]['seconds']} s "
        f"= {rows[0]['per_second']:,} members/s on one core, peak {rows[0]['peak_mib']} MiB"
    ]
    if len(rows) > 1:
        p = rows[1]
        verdict = "valid" if p["valid"] else f"INVALID ({p['errors']} errors: {p['first_errors']})"
        lines.append(
            f"pyx12 (an independent validator, much slower) read only the first {p['members']:,} members of "
            f"the same content: {p['per_second']:,} members/s, peak {p['peak_mib']} MiB, file {verdict}; "
            f"read_834 is {p['ratio']}x faster"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--pyx12-members", type=int, default=PYX12_MEMBERS, help="0 skips pyx12")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=["read_834", "pyx12"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "read_834":
        print(json.dumps(_child_read_834(args.file)))
        return
    if args.child == "pyx12":
        print(json.dumps(pyx12_validate(args.file)))
        return
    rows = parse(args.file, args.pyx12_members)
    print(json.dumps(rows, indent=2) if args.json else "\n".join(describe(rows)))


if __name__ == "__main__":
    main()
