"""`frontwatch replay` and `frontwatch demo` as a user runs them, crashes and concurrent runs included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.conftest import REPO, run_cli

ALERT_FIELDS = {"kind", "event_id", "rule", "location", "sources", "post_ids", "text"}
CITIES = [
    "Kunduz",
    "Taloqan",
    "Ghazni",
    "Herat",
    "Kandahar",
    "Lashkar Gah",
    "Zaranj",
    "Farah",
    "Pul-e Khumri",
    "Faizabad",
]


def scenario(path: Path) -> Path:
    """Ten cities, each reported by three authors a minute apart: 10 alerts and 20 updates."""
    lines = []
    for i, city in enumerate(CITIES):
        for j in range(3):
            minute = i * 3 + j
            lines.append(
                json.dumps(
                    {
                        "id": f"{i}-{j}",
                        "text": f"{city} has fallen to the Taliban, source {j} says.",
                        "author": f"reporter{j}",
                        "created_at": f"2021-08-10T{10 + minute // 60:02d}:{minute % 60:02d}:00Z",
                    }
                )
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def deliveries(stdout: str) -> Counter[tuple[str, int]]:
    return Counter((a["event_id"], a["sources"]) for a in map(json.loads, stdout.splitlines()))


def test_replay_prints_alerts_and_updates_in_the_contract_format(redis_url: str, namespace: str) -> None:
    result = run_cli(
        "replay",
        "--json",
        "--redis",
        redis_url,
        str(REPO / "examples/mazar-i-sharif.jsonl"),
        env={"FRONTWATCH_NAMESPACE": namespace},
    )
    assert result.returncode == 0, result.stderr
    alerts = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(set(a) >= ALERT_FIELDS for a in alerts)
    first = {a["location"]: a for a in alerts if a["kind"] == "alert"}
    assert set(first) == {"Sharana", "Mazar-i-Sharif"}  # Sharana fell the same morning, one report of it
    assert first["Mazar-i-Sharif"]["post_ids"] == ["1426560000000000007"]
    assert first["Sharana"]["post_ids"] == ["1426560000000000003"]
    assert {a["location"] for a in alerts if a["kind"] == "update"} == {"Mazar-i-Sharif"}
    assert "13 posts" in result.stderr and "2 alerts" in result.stderr


def test_replay_twice_sends_nothing_the_second_time(redis_url: str, namespace: str, tmp_path: Path) -> None:
    posts = scenario(tmp_path / "posts.jsonl")
    env = {"FRONTWATCH_NAMESPACE": namespace}
    first = run_cli("replay", "--json", "--redis", redis_url, str(posts), env=env)
    second = run_cli("replay", "--json", "--redis", redis_url, str(posts), env=env)
    assert sum(deliveries(first.stdout).values()) == 30
    assert second.stdout == "" and "30 duplicates" in second.stderr


def test_a_replay_killed_midway_then_run_again_loses_no_alert_and_repeats_at_most_the_one_in_hand(
    redis_url: str, namespace: str, tmp_path: Path
) -> None:
    posts = scenario(tmp_path / "posts.jsonl")
    command = [
        sys.executable,
        "-m",
        "bot",
        "replay",
        "--json",
        "--redis",
        redis_url,
        "--speed",
        "600",
        str(posts),
    ]
    env = {**os.environ, "FRONTWATCH_NAMESPACE": namespace}
    seen: Counter[tuple[str, int]] = Counter()
    for kill_after in (3, 11):  # killed twice, at different moments
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=REPO
        )
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(kill_after)]
        proc.send_signal(signal.SIGKILL)
        lines += proc.stdout.readlines()
        proc.wait()
        seen += deliveries("".join(lines))
    final = run_cli(
        "replay", "--json", "--redis", redis_url, str(posts), env={"FRONTWATCH_NAMESPACE": namespace}
    )
    assert final.returncode == 0, final.stderr
    seen += deliveries(final.stdout)
    assert len(seen) == 30, f"every alert and update arrives: {seen}"
    # A kill between writing an alert and marking it sent may repeat that one entry at the rerun,
    # never lose it (a 'sending' mark is not read as 'sent').
    assert sum(seen.values()) - 30 <= 2, seen


def test_two_replays_of_one_file_at_once_deliver_each_alert_once(
    redis_url: str, namespace: str, tmp_path: Path
) -> None:
    posts = scenario(tmp_path / "posts.jsonl")
    command = [sys.executable, "-m", "bot", "replay", "--json", "--redis", redis_url, str(posts)]
    env = {**os.environ, "FRONTWATCH_NAMESPACE": namespace}
    procs = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    seen = deliveries(outputs[0][0]) + deliveries(outputs[1][0])
    assert len(seen) == 30, f"every alert and update arrives: {seen}"
    # A kill between writing an alert and marking it sent may repeat that one entry at the rerun,
    # never lose it (a 'sending' mark is not read as 'sent').
    assert sum(seen.values()) - 30 <= 2, seen


def test_replay_with_redis_unreachable_exits_1_naming_the_url_without_its_password() -> None:
    result = run_cli(
        "replay", "--redis", "redis://:hunter2@127.0.0.1:1/0", str(REPO / "examples/mazar-i-sharif.jsonl")
    )
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("frontwatch: cannot reach Redis at redis://***@127.0.0.1:1/0")
    assert "hunter2" not in result.stderr


def test_demo_shows_one_mazar_i_sharif_alert_then_updates_without_any_redis_installed(tmp_path: Path) -> None:
    result = run_cli("demo", "--json", env={"REDIS_URL": "", "FRONTWATCH_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    everything = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(a["kind"], a["location"]) for a in everything if a["location"] != "Mazar-i-Sharif"] == [
        ("alert", "Sharana")
    ]
    alerts = [a for a in everything if a["location"] == "Mazar-i-Sharif"]
    assert [a["kind"] for a in alerts][:1] == ["alert"]
    assert [a["kind"] for a in alerts].count("alert") == 1
    assert [a["sources"] for a in alerts] == list(range(1, len(alerts) + 1)) and len(alerts) >= 4
