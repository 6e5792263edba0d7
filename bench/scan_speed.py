"""Speed and memory of the rules engine on a realistic stream, against a naive baseline in the same run.

    python bench/scan_speed.py [--posts 50000]

The stream is mostly unrelated posts, a few percent with trigger words in other senses ("prices fell",
"captured on camera") and about one percent real reports. The baseline tries every trigger phrase of
every rule as its own Python regex on every post (it does not even look for places, so the ratio is
conservative). Also measured, each in a fresh process: start-up from the gazetteer cache and from
nothing, and resident memory once the detector is ready. Targets (issue 2): >= 20,000 posts/s on one
core, >= 10x the baseline, start-up under 5 s, memory under 400 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.posts import Post, parse_post_line  # noqa: E402
from bot.rules import Detector, compile_rules, load_rules  # noqa: E402
from bot.rules.schema import PLACE_SLOT, RulesFile  # noqa: E402

UNRELATED = [
    "Press conference at the ministry at {h}:00 today, questions on the budget and schools.",
    "Weather: heavy rain expected in the north this weekend, drivers urged to take care.",
    "Thread: what we know so far about the new visa rules announced this morning 🧵",
    "Our correspondent spoke to families waiting at the border crossing for a third day.",
    "Власти объявили о ремонте дорог в центре города до конца месяца.",
    "Уряд оголосив нову програму підтримки для внутрішньо переміщених осіб.",
    "Le ministre a rencontré les représentants des ONG pour discuter de l'aide humanitaire.",
    "وزير الخارجية يلتقي نظيره لبحث التعاون الاقتصادي بين البلدين",
    "نشست خبری وزارت صحت عامه در مورد واکسین پولیو امروز برگزار شد",
    "د کابل په ښار کې نن د ښوونځیو د بیا پرانیستلو په اړه غونډه وشوه",
    "Live: the UN Security Council meets on the humanitarian situation, follow our coverage.",
    "Markets open higher as investors await the central bank decision on rates.",
]
OTHER_SENSE = [
    "Prices fell sharply in Kabul markets this week as the currency recovered.",
    "Police in Kandahar seized drugs worth millions in a night raid.",
    "Moment captured on camera: children playing in the snow in Herat.",
    "Real Madrid captured the title after a dramatic final.",
    "Цены на хлеб в Харькове упали впервые за год.",
]
REPORTS = [
    "BREAKING: The city of Kunduz has fallen to the Taliban, residents say.",
    "Russian forces captured Avdiivka after months of fighting, the ministry says.",
    "Окупанти захопили Соледар, повідомляє Генштаб.",
    "سقطت مدينة حماة بيد الفصائل المسلحة",
    "شهر غزنی به دست طالبان سقوط کرد",
    "Le M23 a pris le contrôle de Goma, selon des sources locales.",
]


def make_stream(n: int, seed: int = 7) -> list[Post]:
    rng = random.Random(seed)
    posts = []
    for i in range(n):
        roll = rng.random()
        pool = REPORTS if roll < 0.01 else OTHER_SENSE if roll < 0.04 else UNRELATED
        text = rng.choice(pool).replace("{h}", str(rng.randint(8, 18)))
        # No language label: the worst case, langdetect runs on every post that matches.
        posts.append(Post(id=str(i), text=f"{text} #{i % 97}"))
    return posts


class NaiveBaseline:
    """Every trigger phrase of every rule as a Python regex, tried one after another on every post."""

    def __init__(self, rules: RulesFile) -> None:
        self.patterns = []
        for rule in rules.rules:
            for phrases in rule.triggers.values():
                for phrase in phrases:
                    if isinstance(phrase, str):
                        words = re.escape(phrase.replace(PLACE_SLOT, "").strip().rstrip("*"))
                        self.patterns.append(re.compile(rf"\b{words}", re.IGNORECASE))

    def detect(self, post: Post) -> list[str]:
        return [p.pattern for p in self.patterns if p.search(post.text)]


def rate(fn: object, posts: list[Post], repeat: int = 3) -> float:
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        for post in posts:
            fn(post)  # type: ignore[operator]
        best = max(best, len(posts) / (time.perf_counter() - start))
    return best


def fresh_process(code: str, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


STARTUP = """
import json, resource, sys, time
t = time.perf_counter()
sys.path.insert(0, {repo!r})
from pathlib import Path
from bot.rules import Detector, compile_rules, load_rules
Detector(compile_rules(load_rules(Path({rules!r}))))
seconds = time.perf_counter() - t
# VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across fork and exec,
# so a bench that built the index first would report its own size for the child.
try:
    hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
    rss_mb = int(hwm.split()[1]) / 1024
except (OSError, IndexError):
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "rss_mb": rss_mb}}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=50_000)
    args = parser.parse_args()
    rules_path = REPO / "rules.yaml"
    rules = load_rules(rules_path)
    compiled = compile_rules(rules)
    detector = Detector(compiled)
    phrases_only = Detector(compiled, without_reader=True)
    baseline = NaiveBaseline(rules)
    posts = make_stream(args.posts)
    lines = [post.model_dump_json() for post in posts]
    matched = sum(1 for p in posts if detector.detect(p))

    ours = rate(detector.detect, posts)
    [phrases_only.detect(p) for p in posts]
    without_reader = rate(phrases_only.detect, posts)
    naive = rate(baseline.detect, posts)
    with_parsing = rate(lambda line: detector.detect(parse_post_line(line)), lines)  # type: ignore[arg-type]

    code = STARTUP.format(repo=str(REPO), rules=str(rules_path))
    warm = fresh_process(code, dict(os.environ))
    with tempfile.TemporaryDirectory() as empty_cache:
        cold = fresh_process(code, {**os.environ, "FRONTWATCH_CACHE_DIR": empty_cache})

    print(f"stream: {len(posts):,} posts, {matched} with a match, {len(baseline.patterns)} trigger phrases")
    print(f"ours, detect only:        {ours:>10,.0f} posts/s")
    print(f"ours without the reader:  {without_reader:>10,.0f} posts/s  (the phrases alone)")
    print(f"ours, JSON line + detect: {with_parsing:>10,.0f} posts/s  (what `frontwatch scan` does per line)")
    print(f"naive regex baseline:     {naive:>10,.0f} posts/s")
    print(f"speed-up over baseline:   {ours / naive:>10.1f}x")
    print(f"start-up, cached gazetteer: {warm['seconds']:.2f} s, resident memory {warm['rss_mb']:.0f} MB")
    cold_line = f"{cold['seconds']:.2f} s, {cold['rss_mb']:.0f} MB"
    print(f"start-up, cold (compiles and caches the gazetteer): {cold_line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
