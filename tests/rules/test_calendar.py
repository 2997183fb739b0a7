"""R16 deadlines, R11 deferral, R12 change of unit and R18 rhythm."""

from dataclasses import replace
from datetime import date

import pytest
from django.utils.translation import override

from evaluation import rules as r

RULES = r.DEFAULT_RULE_SET
Q2 = r.quarter_bounds(2026, 2)
TRAINING, SICK, MATERNITY, INSPECTION = (
    r.AbsenceKind.TRAINING,
    r.AbsenceKind.SICK_LEAVE,
    r.AbsenceKind.MATERNITY_LEAVE,
    r.AbsenceKind.INSPECTION,
)


@pytest.fixture(autouse=True)
def english():
    with override("en"):
        yield


def d(day, month, year=2026):
    return date(year, month, day)


@pytest.mark.parametrize(
    ("year", "quarter", "bounds"),
    [
        (2026, 1, (d(1, 1), d(31, 3))),
        (2026, 2, (d(1, 4), d(30, 6))),
        (2026, 3, (d(1, 7), d(30, 9))),
        (2026, 4, (d(1, 10), d(31, 12))),
    ],
)
def test_quarter_bounds(year, quarter, bounds):
    assert r.quarter_bounds(year, quarter) == bounds
    assert r.quarter_of(bounds[0]) == r.quarter_of(bounds[1]) == (year, quarter)


@pytest.mark.parametrize("quarter", [0, 5, "2"])
def test_a_quarter_outside_1_to_4_is_refused(quarter):
    with pytest.raises(r.RuleInputError) as error:
        r.quarter_bounds(2026, quarter)
    assert error.value.field == "quarter"


@pytest.mark.parametrize(
    ("year", "quarter", "deadline"),
    [
        (2026, 1, d(4, 4)),
        (2026, 2, d(4, 7)),  # E13
        (2026, 3, d(4, 10)),
        (2026, 4, d(4, 1, 2027)),
    ],
)
def test_report_deadline_is_the_day_before_the_5th(year, quarter, deadline):
    assert r.report_deadline(year, quarter, RULES) == deadline


@pytest.mark.parametrize(
    ("submitted_on", "late"),
    [(d(30, 6), False), (d(4, 7), False), (d(5, 7), True), (d(1, 8), True)],
)
def test_is_report_late(submitted_on, late):
    assert r.is_report_late(2026, 2, submitted_on, RULES).value is late


def test_a_late_report_says_so():
    reason = r.is_report_late(2026, 4, d(6, 1, 2027), RULES).reasons[0]
    assert reason.message == "Submitted on 06/01/2027, after the deadline of 04/01/2027 (R16)"


def test_the_deadline_day_is_a_tenant_setting():
    assert r.report_deadline(2026, 2, replace(RULES, report_before_day=10)) == d(9, 7)


def deferred(absences=(), appointments=(), rules=RULES, bounds=Q2, **kwargs):
    return r.deferral(list(absences), list(appointments), *bounds, rules, **kwargs)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (d(10, 4), d(25, 6), True),  # E9
        (d(1, 4), d(31, 5), True),  # exactly two months
        (d(1, 4), d(30, 5), False),  # one day short
        (d(10, 4), d(9, 6), True),
        (d(10, 4), d(8, 6), False),
        (d(1, 3), d(20, 5), False),  # only 1/4–20/5 falls in the quarter
        (d(15, 2), d(10, 6), True),  # clipped to 1/4–10/6
        (d(15, 4), None, True),  # still in training at quarter end
        (d(1, 5), None, True),  # 1/5–30/6
        (d(2, 5), None, False),  # 2/5–30/6
    ],
)
def test_full_time_training_of_two_months(start, end, expected):
    assert deferred([r.Absence(TRAINING, start, end)]).deferred is expected


def test_back_to_back_training_periods_add_up():
    absences = [r.Absence(TRAINING, d(1, 4), d(30, 4)), r.Absence(TRAINING, d(1, 5), d(31, 5))]
    assert deferred(absences).deferred


@pytest.mark.parametrize(
    ("absences", "combine", "expected"),
    [
        ([(SICK, d(1, 4), d(31, 5))], True, True),
        ([(MATERNITY, d(20, 4), None)], True, True),
        ([(SICK, d(1, 4), d(30, 4)), (MATERNITY, d(1, 5), d(15, 6))], True, True),
        ([(SICK, d(1, 4), d(30, 4)), (MATERNITY, d(1, 5), d(15, 6))], False, False),
        ([(SICK, d(1, 4), d(30, 4)), (SICK, d(10, 5), d(31, 5))], True, False),  # apart
        ([(SICK, d(1, 4), d(10, 5)), (MATERNITY, d(5, 5), d(2, 6))], True, True),  # overlap
    ],
)
def test_sick_and_maternity_leave(absences, combine, expected):
    rules = replace(RULES, combine_sick_and_maternity=combine)
    periods = [r.Absence(kind, start, end) for kind, start, end in absences]
    result = deferred(periods, rules=rules)
    assert result.deferred is expected
    assert ("R11c" in [reason.rule for reason in result.reasons]) is expected


@pytest.mark.parametrize(
    ("appointed_on", "first", "expected"),
    [
        (d(10, 6), True, True),  # E10: 21 days left
        (d(1, 6), True, False),  # exactly one month left
        (d(2, 6), True, True),
        (d(31, 5), True, False),
        (d(10, 6), False, False),  # not a first leadership appointment
    ],
)
def test_first_appointment_with_under_a_month_left(appointed_on, first, expected):
    assert deferred(appointments=[r.Appointment(appointed_on, first)]).deferred is expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(d(1, 6), None, True), (d(1, 5), d(30, 6), True), (d(1, 5), d(15, 6), False)],
)
def test_under_inspection_at_quarter_end(start, end, expected):
    assert deferred([r.Absence(INSPECTION, start, end)]).deferred is expected


def test_the_authority_may_defer_with_a_reason():
    result = deferred(authority_reason="Seconded to the flood response board")
    assert result.deferred
    assert result.reasons[0] == r.Reason(
        "R11e", "Deferred by decision of the authority: Seconded to the flood response board (R11e)"
    )


def test_no_ground_no_deferral():
    result = deferred()
    assert (result.deferred, result.carried_to) == (False, None)
    assert result.reasons[0].rule == "R11"


def test_q4_carries_into_q1_of_next_year():
    training = r.Absence(TRAINING, d(1, 10), d(31, 12))
    result = deferred([training], bounds=r.quarter_bounds(2026, 4))
    assert result.carried_to == (2027, 1)
    assert result.reasons[-1].message == (
        "Not graded this quarter; the results carry into Q1/2027 (R11)"
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"authority_reason": " "}, "authority_reason"),
        ({"bounds": (d(1, 4), d(31, 5))}, "quarter_end"),
        ({"bounds": (d(2, 4), d(30, 6))}, "quarter_end"),
        ({"absences": [r.Absence(SICK, d(5, 5), d(1, 5))]}, "absences[0].end"),
        ({"absences": [r.Absence(SICK, d(1, 7), None)]}, "absences[0].start"),
        ({"absences": [r.Absence(SICK, d(1, 1), d(31, 3))]}, "absences[0].start"),
        ({"appointments": [r.Appointment(d(1, 7), True)]}, "appointments[0].appointed_on"),
    ],
)
def test_bad_deferral_input_names_the_field(kwargs, field):
    with pytest.raises(r.RuleInputError) as error:
        deferred(**kwargs)
    assert error.value.field == field


def unit_for(*spells):
    return r.grading_unit([r.Assignment(*spell) for spell in spells], *Q2, RULES)


def test_the_unit_at_quarter_end_grades_and_a_two_month_unit_comments():
    result = unit_for(("A", d(1, 1), d(31, 5)), ("B", d(1, 6)))
    assert (result.unit, result.comment_units) == ("B", ("A",))
    assert [reason.message for reason in result.reasons] == [
        "B grades: the cadre is there at the end of the quarter (R12)",
        "A must comment: the cadre spent 2 months or more there in the quarter (R12)",
    ]


@pytest.mark.parametrize(
    ("spells", "unit", "comment_units"),
    [
        ([("A", d(1, 4), d(30, 5)), ("B", d(31, 5), None)], "B", ()),  # one day short
        ([("A", d(1, 4), None)], "A", ()),
        ([("A", d(1, 4), d(31, 5)), ("B", d(1, 6), d(30, 6))], "B", ("A",)),
        ([("A", d(1, 4), d(15, 4)), ("C", d(16, 4), d(20, 6)), ("B", d(21, 6), None)], "B", ("C",)),
        ([("A", d(1, 4), d(30, 4)), ("B", d(1, 5), d(31, 5)), ("A", d(1, 6), None)], "A", ()),
    ],
)
def test_grading_unit_table(spells, unit, comment_units):
    result = unit_for(*spells)
    assert (result.unit, result.comment_units) == (unit, comment_units)


@pytest.mark.parametrize(
    "spells",
    [
        [("A", d(1, 4), d(31, 5))],  # nobody there at quarter end
        [("A", d(1, 4), None), ("B", d(1, 5), None)],  # two units at quarter end
    ],
)
def test_grading_unit_needs_exactly_one_unit_at_quarter_end(spells):
    with pytest.raises(r.RuleInputError) as error:
        unit_for(*spells)
    assert error.value.field == "assignments"


@pytest.mark.parametrize(
    ("post", "choice", "mode"),
    [
        (r.PostKind.LEADERSHIP, r.EvaluationMode.YEARLY, r.EvaluationMode.QUARTERLY),
        (r.PostKind.COMMITTEE_ONLY, r.EvaluationMode.HALF_YEARLY, r.EvaluationMode.HALF_YEARLY),
        (r.PostKind.COMMITTEE_ONLY, r.EvaluationMode.YEARLY, r.EvaluationMode.YEARLY),
        (r.PostKind.COMMITTEE_ONLY, r.EvaluationMode.QUARTERLY, r.EvaluationMode.QUARTERLY),
    ],
)
def test_evaluation_mode(post, choice, mode):
    assert r.evaluation_mode(post, choice).value == mode


@pytest.mark.parametrize(
    ("mode", "graded_quarters"),
    [
        (r.EvaluationMode.QUARTERLY, [1, 2, 3, 4]),
        (r.EvaluationMode.HALF_YEARLY, [2, 4]),
        (r.EvaluationMode.YEARLY, [4]),
    ],
)
def test_graded_this_quarter(mode, graded_quarters):
    assert [q for q in range(1, 5) if r.graded_this_quarter(mode, q).value] == graded_quarters


def test_graded_this_quarter_says_why():
    reason = r.graded_this_quarter(r.EvaluationMode.HALF_YEARLY, 3).reasons[0]
    assert reason.message == "Half-yearly evaluation: not graded at the end of Q3 (R18)"
