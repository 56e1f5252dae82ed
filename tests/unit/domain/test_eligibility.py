import pytest

from diversion.domain.eligibility import Screening, assess, describe

ELIGIBLE = dict(
    previous_sexual_or_violent_conviction=False,
    first_offence=True,
    image_category="C",
    contact_offending_suspected=False,
    children_at_risk=False,
    prosecutor_agreed=True,
    participant_consented=True,
)


def test_a_first_time_category_c_suspect_with_agreement_and_consent_is_eligible():
    result = assess(Screening(**ELIGIBLE))
    assert result.eligible
    assert result.reasons == ()


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"previous_sexual_or_violent_conviction": True}, "previous_sexual_or_violent_conviction"),
        ({"first_offence": False}, "not_first_offence"),
        ({"image_category": "A"}, "image_category_above_c"),
        ({"image_category": "B"}, "image_category_above_c"),
        ({"contact_offending_suspected": True}, "contact_offending_suspected"),
        ({"children_at_risk": True}, "children_at_risk"),
        ({"prosecutor_agreed": False}, "prosecutor_not_agreed"),
        ({"participant_consented": False}, "participant_not_consented"),
    ],
)
def test_each_failed_criterion_alone_makes_the_case_ineligible_with_its_reason(answer, reason):
    result = assess(Screening(**{**ELIGIBLE, **answer}))
    assert not result.eligible
    assert result.reasons == (reason,)
    assert describe(reason) != reason


def test_every_failed_criterion_is_kept_not_just_the_first():
    result = assess(Screening(
        previous_sexual_or_violent_conviction=True, first_offence=False, image_category="A",
        contact_offending_suspected=True, children_at_risk=True, prosecutor_agreed=False,
        participant_consented=False,
    ))
    assert len(result.reasons) == 7


def test_someone_under_18_on_the_day_of_screening_is_not_eligible():
    from datetime import date

    result = assess(Screening(**ELIGIBLE), date_of_birth=date(2009, 1, 5),
                    screened_on=date(2027, 1, 4))
    assert not result.eligible
    assert result.reasons == ("under_18",)
    assert describe("under_18") == "Was under 18 on the day of screening"


def test_someone_18_on_the_day_of_screening_is_eligible():
    from datetime import date

    result = assess(Screening(**ELIGIBLE), date_of_birth=date(2009, 1, 4),
                    screened_on=date(2027, 1, 4))
    assert result.eligible
