"""Grade 50,000 cadres in 500 quota groups with evaluation.rules and allocate each group's quota.

Run from the project root: `.venv/bin/python bench/bench_rules.py [--cadres N] [--groups G]`.
The data comes from a fixed seed, so every run grades the same cadres. Django is set up without
apps or database and with translation off, which measures the rules themselves; `--vietnamese`
turns translation on with Vietnamese active, adding Django's per-message language lookups.
"""

import argparse
import gc
import random
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import django
from django.conf import settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEED = 2026
HALF_POINTS = [Decimal("0"), Decimal("0.5"), Decimal("1"), Decimal("1.5")]


def make_cadre(rng, rules, rule_module):
    """One cadre's assessment: 5–8 tasks, mostly done on time, a few late, excused or poor."""
    r = rule_module
    count = rng.randint(5, 8)
    weights = [100 // count] * count
    weights[0] += 100 - sum(weights)
    tasks = []
    for index, weight in enumerate(weights):
        done = rng.random() < 0.985
        excused = not done and rng.random() < 0.5
        tasks.append(
            r.Task(
                id=index,
                weight=Decimal(weight),
                axis=rng.randint(1, 6),
                done=done,
                late=done and rng.random() < 0.05,
                exceeded=done and rng.random() < 0.25,
                quality_level=rng.choices((1, 2, 3), (80, 19, 1))[0] if done else None,
                excused=excused,
                excuse_reason="Flood" if excused else "",
            )
        )
    general = {c.code: c.max_points - rng.choice(HALF_POINTS) for c in rules.general_criteria}
    return r.AssessmentInput(general_points=general, tasks=tasks)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadres", type=int, default=50_000)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--vietnamese", action="store_true", help="translate, Vietnamese active")
    args = parser.parse_args()

    settings.configure(USE_I18N=args.vietnamese, LANGUAGE_CODE="vi", INSTALLED_APPS=[])
    django.setup()
    from django.utils import translation

    from evaluation import rules as r

    translation.activate("vi")
    rules = r.DEFAULT_RULE_SET
    rng = random.Random(SEED)
    started = time.perf_counter()
    groups = [
        [make_cadre(rng, rules, r) for _ in range(args.cadres // args.groups)]
        for _ in range(args.groups)
    ]
    # The generated input lives to the end; freezing it keeps the garbage collector from
    # re-scanning 50,000 assessments at every collection, which would dominate the timing.
    gc.freeze()
    generated = time.perf_counter()

    results = [[r.compute_grade(cadre, rules) for cadre in group] for group in groups]
    graded = time.perf_counter()

    allowed = demoted = 0
    for group in results:
        # The first cadre of each group is its head, outside the members' quota (R9).
        candidates = [
            r.QuotaCandidate(id=index, score=result.score.total, is_head=index == 0)
            for index, result in enumerate(group)
            if result.grade == r.Grade.EXCELLENT
        ]
        others_good = sum(
            result.grade == r.Grade.GOOD for index, result in enumerate(group) if index
        )
        allocation = r.allocate_excellent(candidates, others_good, rules.excellent_quota_percent)
        allowed += len(allocation.allowed)
        demoted += len(allocation.demoted)
    allocated = time.perf_counter()

    cadres = sum(len(group) for group in results)
    grades = Counter(result.grade for group in results for result in group)
    language = "Vietnamese active" if args.vietnamese else "translation off"
    print(f"cadres {cadres} in {len(results)} quota groups (seed {SEED}, {language})")
    print(f"generate  {generated - started:6.3f} s")
    each = (graded - generated) / cadres * 1e6
    print(f"grade     {graded - generated:6.3f} s  ({each:.1f} µs per cadre)")
    print(f"allocate  {allocated - graded:6.3f} s")
    print(f"rules     {allocated - generated:6.3f} s  total for grading and allocation")
    for grade in r.Grade:
        print(f"  {grade.value:<14} {grades[grade]:6d}")
    print(f"Excellent kept {allowed}, demoted to Good {demoted}")


if __name__ == "__main__":
    main()
