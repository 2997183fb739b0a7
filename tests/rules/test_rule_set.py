"""RuleSet: defaults, validation, JSON round trip, and the set in force on a date."""

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from django.utils.translation import override

from evaluation import rules as r

DEFAULT = r.DEFAULT_RULE_SET


@pytest.fixture(autouse=True)
def english():
    with override("en"):
        yield


def version(name, effective_from, **changes):
    return r.RuleSet(version=name, effective_from=effective_from, **changes)


def test_defaults_follow_the_guideline():
    assert (DEFAULT.excellent_quota_percent, DEFAULT.raised_quota_percent) == (20, 25)
    assert (DEFAULT.excellent_floor, DEFAULT.good_floor, DEFAULT.completed_floor) == (90, 70, 50)
    assert DEFAULT.quality_factors == (Decimal(1), Decimal("0.75"), Decimal(0))
    assert DEFAULT.late_factor == Decimal("0.75")
    assert (DEFAULT.excellent_exceeded_percent, DEFAULT.completed_late_percent) == (30, 20)
    assert DEFAULT.collective_threshold_percent == 70
    assert DEFAULT.report_before_day == 5
    assert DEFAULT.axis_scoring_from == date(2026, 4, 1)
    assert sum(c.max_points for c in DEFAULT.general_criteria) == 30
    assert [str(c.name) for c in DEFAULT.general_criteria] == [
        "Political ideology",
        "Ethics and lifestyle",
        "Discipline and working style",
        "Unity and exemplary conduct",
    ]


def test_to_dict_survives_json_and_rebuilds_the_same_rule_set():
    stored = json.loads(json.dumps(DEFAULT.to_dict()))
    assert stored["effective_from"] == "2026-01-01"
    assert stored["quality_factors"] == ["1", "0.75", "0"]
    assert r.RuleSet.from_dict(stored) == DEFAULT


def test_a_tenant_rule_set_round_trips():
    criteria = (
        r.Criterion("ideology", "Tư tưởng chính trị", Decimal("10")),
        r.Criterion("conduct", "Đạo đức, lối sống", Decimal("20")),
    )
    tenant = version(
        "tinh-uy-2026.2",
        date(2026, 7, 1),
        excellent_quota_percent=25,
        weight_by_difficulty=True,
        general_criteria=criteria,
    )
    assert r.RuleSet.from_dict(json.loads(json.dumps(tenant.to_dict()))) == tenant


def test_from_dict_fills_missing_keys_with_defaults():
    rules = r.RuleSet.from_dict({"version": "v2", "effective_from": "2027-01-01"})
    assert rules == replace(DEFAULT, version="v2", effective_from=date(2027, 1, 1))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"effective_from": "2027-01-01"}, "version"),
        ({"version": "v2"}, "effective_from"),
        ({"version": "v2", "effective_from": "2027-01-01", "quota": 20}, "quota"),
        ({"version": "v2", "effective_from": "01/01/2027"}, "effective_from"),
        (
            {"version": "v2", "effective_from": "2027-01-01", "excellent_quota_percent": "20"},
            "excellent_quota_percent",
        ),
        (
            {"version": "v2", "effective_from": "2027-01-01", "excellent_quota_percent": True},
            "excellent_quota_percent",
        ),
        (
            {"version": "v2", "effective_from": "2027-01-01", "grade_q4_separately": 1},
            "grade_q4_separately",
        ),
        ({"version": "v2", "effective_from": "2027-01-01", "late_factor": "abc"}, "late_factor"),
        (
            {"version": "v2", "effective_from": "2027-01-01", "general_criteria": [{"code": "a"}]},
            "general_criteria",
        ),
    ],
)
def test_from_dict_refuses_what_it_cannot_read(data, field):
    with pytest.raises(r.RuleSetError) as error:
        r.RuleSet.from_dict(data)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"version": " "}, "version"),
        ({"excellent_quota_percent": 101}, "excellent_quota_percent"),
        ({"excellent_quota_percent": -1}, "excellent_quota_percent"),
        ({"excellent_quota_percent": 30}, "raised_quota_percent"),
        ({"collective_threshold_percent": 120}, "collective_threshold_percent"),
        ({"completed_late_percent": 20.5}, "completed_late_percent"),
        ({"good_floor": Decimal(95)}, "excellent_floor"),
        ({"completed_floor": Decimal(0)}, "excellent_floor"),
        ({"excellent_floor": Decimal(101)}, "excellent_floor"),
        ({"quality_factors": (Decimal(1), Decimal("0.5"), Decimal("0.75"))}, "quality_factors"),
        ({"quality_factors": (Decimal("1.2"), Decimal("0.5"), Decimal(0))}, "quality_factors"),
        ({"late_factor": Decimal("1.5")}, "late_factor"),
        ({"general_criteria": ()}, "general_criteria"),
        ({"general_criteria": (r.Criterion("a", "A", Decimal(15)),) * 2}, "general_criteria"),
        ({"general_criteria": (r.Criterion("a", "A", Decimal(29)),)}, "general_criteria"),
        (
            {
                "general_criteria": (
                    r.Criterion("a", "A", Decimal(31)),
                    r.Criterion("b", "B", Decimal(-1)),
                )
            },
            "general_criteria",
        ),
        ({"report_before_day": 1}, "report_before_day"),
        ({"long_absence_months": 0}, "long_absence_months"),
        ({"year_end_share_percent": 101}, "year_end_share_percent"),
    ],
)
def test_the_constructor_refuses_a_broken_rule_set(changes, field):
    with pytest.raises(r.RuleSetError) as error:
        replace(DEFAULT, **changes)
    assert error.value.field == field


def test_criteria_summing_to_29_say_so():
    with pytest.raises(r.RuleSetError, match="the criteria maxima sum to 29, not 30"):
        replace(DEFAULT, general_criteria=(r.Criterion("a", "A", Decimal(29)),))


def test_a_rule_set_error_is_a_rule_input_error_and_a_value_error():
    assert issubclass(r.RuleSetError, r.RuleInputError)
    assert issubclass(r.RuleInputError, ValueError)


V1 = version("v1", date(2026, 1, 1))
V2 = version("v2", date(2026, 7, 1), excellent_quota_percent=25)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2026, 1, 1), V1),
        (date(2026, 6, 30), V1),
        (date(2026, 7, 1), V2),
        (date(2027, 4, 1), V2),
    ],
)
def test_the_rule_set_in_force_is_the_latest_started(on, expected):
    assert r.rule_set_in_force([V2, V1], on) == expected


def test_no_rule_set_before_the_first_one():
    with pytest.raises(r.RuleInputError) as error:
        r.rule_set_in_force([V1, V2], date(2025, 12, 31))
    assert error.value.field == "on"


def test_two_rule_sets_starting_the_same_day_are_ambiguous():
    with pytest.raises(r.RuleInputError) as error:
        r.rule_set_in_force([V1, replace(V1, version="v1-bis")], date(2026, 5, 1))
    assert error.value.field == "rule_sets"
