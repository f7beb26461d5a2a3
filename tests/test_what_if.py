"""What-if on the rules of engagement: past decisions replayed from what each stored, nothing saved."""

from datetime import date, timedelta

from sqlalchemy import func, select

from intake.deals import rules as engagement
from intake.deals import whatif
from intake.extensions import db
from intake.models import Decision, RulesOfEngagement

from .deal_steps import route

TODAY = date.today()


def test_replaying_the_period_under_another_threshold_lists_the_decisions_that_would_change(
    app, rep, ready, thames, manager
):
    # The customer came to us with no preference: Thames (working, 3) fulfils while a relationship counts from 3.
    working = route(
        ready(partner=thames, strength=3, contact="vendor", originator="customer", origin_channel="referral"), rep
    )
    assert working.decisions[-1].routing.fulfilment.partner_id == thames.id
    # Thames is strategic (5) on another: it fulfils under any threshold.
    strategic = route(ready(partner=thames, strength=5, contact="vendor"), rep)

    result = whatif.replay(threshold=4, ties="partners", since=TODAY, until=TODAY)
    assert result.replayed == 2 and not result.truncated
    [change] = result.changes
    assert change.version.deal_id == working.id and "who fulfils" in change.what and "credit" in change.what
    assert change.after.fulfilment.kind == "vendor"
    # The same rules as in force change nothing; a period without decisions replays none.
    assert whatif.replay(threshold=3, ties="partners", since=TODAY, until=TODAY).changes == []
    assert (
        whatif.replay(
            threshold=4, ties="partners", since=TODAY - timedelta(days=9), until=TODAY - timedelta(days=1)
        ).replayed
        == 0
    )

    rules_before = db.session.scalar(select(func.count()).select_from(RulesOfEngagement))
    decisions_before = db.session.scalar(select(func.count()).select_from(Decision))
    page = manager.get(f"/admin/rules/what-if?try-threshold=4&try-ties=partners&try-since={TODAY}&try-until={TODAY}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "1 of 2 decisions would change" in text
    assert f"/deals/{working.id}#routing" in text and f"/deals/{strategic.id}#routing" not in text
    # Nothing was saved or decided.
    assert db.session.scalar(select(func.count()).select_from(RulesOfEngagement)) == rules_before
    assert db.session.scalar(select(func.count()).select_from(Decision)) == decisions_before
    assert engagement.in_force().engine.threshold == 3


def test_what_if_answers_bad_periods_and_nonsense_with_a_clear_400(app, manager):
    assert manager.get("/admin/rules").status_code == 200
    assert manager.get("/admin/rules/what-if").status_code == 200  # the form, nothing replayed
    yesterday = TODAY - timedelta(days=1)
    backwards = manager.get(
        f"/admin/rules/what-if?try-threshold=3&try-ties=partners&try-since={TODAY}&try-until={yesterday}"
    )
    assert backwards.status_code == 400 and "The last day comes after the first." in backwards.get_data(as_text=True)
    for nonsense in (
        "try-threshold=9&try-ties=partners",
        "try-threshold=x&try-ties=nobody",
        "try-since=yesterday&try-until=2026-13-01",
    ):
        assert manager.get(f"/admin/rules/what-if?{nonsense}").status_code == 400, nonsense
