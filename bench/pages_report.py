"""The page benchmark's report: summary rows, the terminal table and the docs/benchmarks.md sections."""

from bench.machine import describe
from bench.pages_inprocess import PROFILE_PARTS

# Of the minimal view's requests per second (issue 13): the "Join now" redirect 30%, every page 10%.
THROUGHPUT_TARGETS = {"join": 0.30}
PAGE_TARGET = 0.10


def target_of(key: str) -> float:
    return THROUGHPUT_TARGETS.get(key, PAGE_TARGET)


WEB_RSS_TARGET_MB = 120


def summarise(pages, load, counts_small, counts_big, timings) -> list[dict]:
    minimal_rps = load["minimal"].rps
    rows = []
    for page in pages:
        result = load[page["key"]]
        share = result.rps / minimal_rps if minimal_rps else 0.0
        rows.append(
            {
                "key": page["key"],
                "label": page["label"],
                "path": page["path"],
                "requests": result.requests,
                "errors": result.errors,
                "error_samples": result.error_samples,
                "rps": round(result.rps, 1),
                "share_of_minimal": round(share, 3),
                "median_ms": round(result.median_ms, 1),
                "p95_ms": round(result.percentile_ms(95), 1),
                "queries_small": counts_small[page["key"]]["queries"],
                "queries_big": counts_big[page["key"]]["queries"],
                "html_kb": counts_big[page["key"]]["html_kb"],
                "in_process": timings[page["key"]],
                "target": target_of(page["key"]),
                "meets_target": page["key"] == "minimal" or share >= target_of(page["key"]),
            }
        )
    return rows


def print_table(rows, memory) -> None:
    print()
    print(
        f"{'page':<26} {'req/s':>8} {'% min':>6} {'median':>8} {'p95':>8} {'SQL small/full':>14} {'HTML':>8} "
        f"{'errors':>6}"
    )
    for row in rows:
        print(
            f"{row['label']:<26} {row['rps']:>8.1f} {row['share_of_minimal'] * 100:>5.0f}% "
            f"{row['median_ms']:>6.1f}ms {row['p95_ms']:>6.1f}ms {row['queries_small']:>7}/{row['queries_big']:<6} "
            f"{row['html_kb']:>6.0f}KB {row['errors']:>6}"
        )
    print()
    for worker in memory["workers"]:
        print(f"gunicorn worker {worker['pid']}: {worker['rss_mb']} MB resident (peak {worker['peak_rss_mb']} MB)")
    print(f"gunicorn master: {memory['master']['rss_mb']} MB resident")


def docs_pages_section(result: dict) -> str:
    s, d, small = result["settings"], result["dataset"], result["small_dataset"]
    rows = result["pages"]
    minimal = next(r for r in rows if r["key"] == "minimal")
    lines = [
        f"Measured {result['machine']['date']} on {describe(result['machine'])}.",
        "",
        f"Rerun: `{result['command']}` ({_duration(result['duration_s'])}; JSON under `bench/results/`).",
        "",
        f"Setup: PostgreSQL {result['postgres']} on the same machine; gunicorn {s['gunicorn']} with "
        f"{s['workers']} `{s['worker_class']}` workers (gunicorn's default class; one per CPU unless `--workers`)"
        + (f" of {s['threads']} threads" if s["worker_class"] == "gthread" else "")
        + f", DEBUG off, `bench.settings` (the LMS's settings plus `/bench/minimal/`, a view returning "
        '`HttpResponse(b"ok")` behind the same middleware); the cache and the sessions in a private redis-server. '
        f"The client is wrk {s.get('wrk', '')} (C, Debian's package; `bench/wrkload.py`) on the same machine: "
        f"{s['concurrency']} connections on {s.get('client_threads', 1)} thread(s), each sending its next request "
        f"when the last is answered, {s['rounds']} interleaved round(s) over all pages, {s['seconds']:.0f} s per "
        "page after a one-second warm-up. Every answer is checked (a page's 200 must contain its own text; the "
        "join redirect must lead to the learner's own link). Logged in through the login form. Latency is "
        "measured at the client, so it includes queueing for a free worker.",
        "",
        f"Data (`bench/dataset.py`): one course, one seminar of {d['events']} events x {d['sessions_per_event']} "
        f"sessions = {d['sessions']} sessions, {d['bookings']} bookings ({d['events']} learners, 5 trainers); "
        f"the learner is booked on {d['learner_booked_sessions']} upcoming sessions, the trainer teaches all "
        f"{d['sessions']}. The measured event has {d['sessions_per_event']} sessions in a Zoom room (meetings "
        f"available) and {d['signups_per_event']} signups. SQL queries are counted in-process, one request per "
        f"page, on this dataset and on a small one ({small['events']} events x {small['sessions_per_event']} "
        f"session, {small['signups_per_event']} signups each: {small['sessions']} sessions, {small['bookings']} "
        "bookings), rolled back before the full load.",
        "",
        f'Target: the "Join now" redirect at least {THROUGHPUT_TARGETS["join"]:.0%} of the minimal view\'s '
        f"throughput ({minimal['rps'] * THROUGHPUT_TARGETS['join']:.0f} req/s here), every page at least "
        f"{PAGE_TARGET:.0%} ({minimal['rps'] * PAGE_TARGET:.0f} req/s), and a constant number of SQL queries per "
        "page. The event page's learner is booked on the live event's session, which starts five minutes after "
        "the data is loaded (its join window is open).",
        "",
        f"| page | req/s | % of minimal | median | p95 | SQL queries ({small['sessions']} / {d['sessions']} sessions) "
        "| HTML | "
        "in-process: total / SQL | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        ip = row["in_process"]
        queries = f"{row['queries_small']} / {row['queries_big']}"
        constant = "" if row["queries_small"] == row["queries_big"] else " (grows)"
        if row["key"] == "minimal":
            verdict = "baseline"
        elif row["meets_target"] and not constant:
            verdict = "met"
        else:
            verdict = _verdict_missed(row, minimal, constant)
        lines.append(
            f"| {row['label']} | {row['rps']:.1f} | {row['share_of_minimal'] * 100:.0f}% | {row['median_ms']:.0f} ms "
            f"| {row['p95_ms']:.0f} ms | {queries}{constant} | {row['html_kb']:.0f} KB | "
            f"{ip['total_ms']:.0f} / {ip['sql_ms']:.0f} ms | {verdict} |"
        )
    errors = sum(r["errors"] for r in rows)
    lines += ["", f"Errors (a wrong answer, a socket error or a timeout) during the load: {errors}."]
    profiles = result.get("profiles") or {}
    if profiles:
        lines += [
            "",
            "Where the time goes in the pages that missed: cProfile, in-process, milliseconds per request "
            "(cProfile slows Python code more than SQL, so read the shares, not the totals; parts overlap: "
            "URL reversing and the time tag run inside template rendering):",
            "",
            "| page | profiled total | template rendering | of it: `{% url %}`/reverse | of it: `session_when` "
            "| ORM queries (build + SQL) | of it: SQL round trips | model instances |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for key, profile in profiles.items():
            label = next(r["label"] for r in rows if r["key"] == key)
            parts = profile["breakdown_ms"]
            lines.append(
                f"| {label} | {profile['total_ms']:.0f} | "
                + " | ".join(f"{parts[name]:.0f}" for name, _file, _function in PROFILE_PARTS)
                + " |"
            )
        lines += ["", "Full listings: " + ", ".join(f"`{p['file']}`" for p in profiles.values()) + "."]
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    return f"took {seconds:.0f} s" if seconds < 90 else f"took {seconds / 60:.1f} minutes"


def _verdict_missed(row, minimal, constant) -> str:
    needed = minimal["rps"] * row["target"]
    parts = []
    if not row["meets_target"]:
        parts.append(
            f"missed: {row['rps']:.1f} of {needed:.0f} req/s needed ({needed / row['rps']:.1f}x short)"
            if row["rps"]
            else "missed: no answers"
        )
    if constant:
        parts.append("query count grows with the data")
    return "; ".join(parts)


def docs_memory_section(result: dict) -> str:
    memory = result["memory"]
    worst = max(w["rss_mb"] for w in memory["workers"])
    verdict = "met" if worst < WEB_RSS_TARGET_MB else f"missed by {worst - WEB_RSS_TARGET_MB:.0f} MB"
    lines = [
        f'Measured {result["machine"]["date"]} on the same machine and run as "Pages" above '
        f"(`{result['command']}`): VmRSS from `/proc/<pid>/status` of each gunicorn worker right after the "
        "page load, i.e. after serving every measured page (on the 1,000-session dataset) many times.",
        "",
        f"Target: a web process under {WEB_RSS_TARGET_MB} MB resident.",
        "",
        "| process | resident (VmRSS) | peak (VmHWM) |",
        "|---|---:|---:|",
    ]
    for worker in memory["workers"]:
        lines.append(
            f"| gunicorn worker (pid {worker['pid']}) | {worker['rss_mb']:.0f} MB | {worker['peak_rss_mb']:.0f} MB |"
        )
    master = memory["master"]
    lines.append(
        f"| gunicorn master (does not serve requests) | {master['rss_mb']:.0f} MB | {master['peak_rss_mb']:.0f} MB |"
    )
    lines += ["", f"Largest worker: {worst:.0f} MB, target {verdict}."]
    return "\n".join(lines)
