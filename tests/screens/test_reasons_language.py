"""The reasons a record keeps are read in each reader's language, not in the language of
whoever's screen caused them: a record is read by everyone who deals with the cadre."""

from django.utils import translation

from evaluation import scoring, services
from evaluation.models import Evaluation
from tests.api.conftest import session_client
from tests.evaluation import steps
from tests.screens.helpers import text


def _r5(evaluation, language: str) -> str:
    with translation.override(language):
        result = scoring.assess(evaluation, stage=scoring.Stage.VETTED)
    return next(reason.message for reason in result.reasons if reason.rule == "R5")


def test_reasons_computed_from_an_english_screen_are_read_in_each_readers_language(unit, as_user):
    cadre = unit.members[0]
    steps.plan_and_approve(unit, cadre)
    steps.self_assess(unit, cadre, exceeded=2)
    with translation.override("en"):  # the advisory body works on English screens
        steps.vet(unit, cadre)
    evaluation = Evaluation.objects.get(pk=unit.evaluation(cadre).pk)
    vietnamese, english = _r5(evaluation, "vi"), _r5(evaluation, "en")
    assert vietnamese != english

    # The record keeps the tenant's language, and every language of the screens.
    stored = next(r for r in evaluation.computed_reasons if r["rule"] == "R5")
    assert stored == {
        "rule": "R5",
        "message": vietnamese,
        "messages": {"vi": vietnamese, "en": english},
    }

    page = f"/evaluations/{evaluation.pk}/"
    in_vietnamese = text(as_user(unit.superior, "vi").get(page))
    assert vietnamese in in_vietnamese and english not in in_vietnamese
    in_english = text(as_user(unit.superior, "en").get(page))
    assert english in in_english and vietnamese not in in_english

    api = session_client(unit.superior)
    for language, expected in (("vi", vietnamese), ("en", english)):
        answer = api.get(f"/api/evaluations/{evaluation.pk}/", HTTP_ACCEPT_LANGUAGE=language)
        r5 = next(r for r in answer.data["computed_reasons"] if r["rule"] == "R5")
        assert r5["message"] == expected


def test_a_collective_graded_from_an_english_screen_keeps_both_languages(unit):
    collective = services.collective_for(period=unit.period, unit=unit.unit)
    services.collective_set_targets(
        collective=collective,
        actor=unit.authority,
        targets=[{"title": f"Chỉ tiêu {i}"} for i in range(3)],
    )
    results = {
        t.pk: {"status": "done" if i < 2 else "not_done"}
        for i, t in enumerate(collective.targets.order_by("pk"))
    }
    services.collective_record_results(collective=collective, actor=unit.authority, results=results)
    with translation.override("en"):
        services.collective_grade(collective=collective, actor=unit.authority)
    collective.refresh_from_db()
    targets = list(collective.targets.all())
    for language in ("vi", "en"):
        with translation.override(language):
            said = [r.message for r in scoring.collective_result(collective, targets).reasons]
        assert [r["messages"][language] for r in collective.reasons] == said
        if language == "vi":
            assert [r["message"] for r in collective.reasons] == said
    assert "R8" in {r["rule"] for r in collective.reasons}
    assert collective.reasons[0]["messages"]["vi"] != collective.reasons[0]["messages"]["en"]
