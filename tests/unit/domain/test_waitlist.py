"""Who a freed place goes to, and who leaves a waitlist for good."""

from diversion.domain.booking import EnrolmentFacts
from diversion.domain.programme import ProgrammeRules
from diversion.domain.waitlist import Waiting, choose, never_takeable
from tests.unit.domain.builders import NOW, day, make_booking, make_enrolment, make_session

RULES = ProgrammeRules()
FREED = make_session(id=1, module=2, starts_at=day(21), capacity=10, booked=9)
FULL = make_session(id=1, module=2, starts_at=day(21), capacity=10, booked=10)


def _ready() -> EnrolmentFacts:
    """Module 1 attended two weeks before: module 2 may follow."""
    return make_enrolment(bookings=[make_booking(id=1, module=1, starts_at=day(7),
                                                 status="attended")])


def _waiting(*enrolments) -> list[Waiting]:
    return [Waiting(entry_id, enrolment) for entry_id, enrolment in enumerate(enrolments, 1)]


def test_the_first_on_the_list_who_passes_every_rule_takes_the_place():
    promotion = choose(RULES, _waiting(_ready(), _ready()), FREED, NOW)

    assert promotion.promote == 1
    assert promotion.leaving == ()


def test_someone_whose_order_of_modules_is_not_ready_is_passed_over_but_stays():
    not_ready = make_enrolment()  # module 1 not yet booked

    promotion = choose(RULES, _waiting(not_ready, _ready()), FREED, NOW)

    assert promotion.promote == 2
    assert promotion.leaving == ()


def test_nobody_is_promoted_while_the_session_is_full():
    assert choose(RULES, _waiting(_ready()), FULL, NOW).promote is None


def test_someone_who_attended_the_module_meanwhile_leaves_with_that_reason():
    attended = make_enrolment(bookings=[
        make_booking(id=1, module=1, starts_at=day(0), status="attended"),
        make_booking(id=2, module=2, starts_at=day(7), status="attended")])

    promotion = choose(RULES, _waiting(attended, _ready()), FULL, NOW)

    assert promotion.promote is None
    assert [(entry, rule.code) for entry, rule in promotion.leaving] == [
        (1, "module_already_attended")]


def test_a_session_past_the_deadline_and_a_closed_enrolment_leave_the_list():
    past_deadline = make_enrolment(core_deadline=day(14).date(), bookings=_ready().bookings)
    withdrawn = make_enrolment(status="withdrawn", bookings=_ready().bookings)

    promotion = choose(RULES, _waiting(past_deadline, withdrawn, _ready()), FREED, NOW)

    assert promotion.promote == 3
    assert [(entry, rule.code) for entry, rule in promotion.leaving] == [
        (1, "after_deadline"), (2, "enrolment_closed")]


def test_a_full_session_is_no_reason_to_refuse_a_place_on_its_list():
    assert never_takeable(RULES, _ready(), FULL, NOW) is None


def test_a_booking_of_the_module_elsewhere_is_no_reason_to_refuse_a_place_on_the_list():
    elsewhere = make_enrolment(bookings=[*_ready().bookings,
                                         make_booking(id=2, module=2, starts_at=day(28))])

    assert never_takeable(RULES, elsewhere, FULL, NOW) is None


def test_a_session_the_enrolment_could_never_take_names_the_rule():
    refusal = never_takeable(RULES, make_enrolment(core_deadline=day(14).date()), FULL, NOW)

    assert refusal is not None and refusal.code == "after_deadline"


def test_someone_booked_into_the_session_itself_has_nothing_to_wait_for():
    here = make_enrolment(bookings=[*_ready().bookings,
                                    make_booking(id=2, module=2, starts_at=day(21),
                                                 session_id=FULL.id)])

    refusal = never_takeable(RULES, here, FULL, NOW)

    assert refusal is not None and refusal.code == "already_booked"
