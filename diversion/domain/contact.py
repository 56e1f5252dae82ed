"""How the service may reach a participant: their language, phone number and consent
to text messages."""

from __future__ import annotations

import phonenumbers

from diversion.domain.vocabulary import Language

UK = "GB"
UK_CALLING_CODE = 44
# Every UK mobile number is 07… nationally: +447… once normalised.
UK_MOBILE_PREFIX = "+447"


def normalised_phone(text: str | None) -> str | None:
    """Return a UK phone number in E.164 form (+447700900982), or None when none given.

    Raises ValueError with the words to show when the text cannot be a UK number.
    Ofcom's drama ranges (07700 900000 to 900999) count: they are shaped like real
    numbers, and training and tests use them so that nobody real is ever texted.
    """
    if text is None or not text.strip():
        return None
    try:
        number = phonenumbers.parse(text, UK)
    except phonenumbers.NumberParseException as error:
        raise ValueError("Enter a UK phone number, like 07700 900982") from error
    # IS_POSSIBLE only: a number dialable from nowhere but a local exchange is not enough.
    possible = phonenumbers.is_possible_number_with_reason(number)
    if (number.country_code != UK_CALLING_CODE
            or possible != phonenumbers.ValidationResult.IS_POSSIBLE):
        raise ValueError("Enter a UK phone number, like 07700 900982")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_for_display(stored: str | None) -> str:
    """Write a stored number as people in the UK read it: 07700 900982."""
    if not stored:
        return ""
    try:
        number = phonenumbers.parse(stored, UK)
    except phonenumbers.NumberParseException:
        return stored
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def sms_consent_problem(phone: str | None, sms_consent: bool) -> str | None:
    """Say why text messages cannot be agreed to with this number, or None."""
    if not sms_consent:
        return None
    if phone is None:
        return "Enter a mobile number to send text messages to, or do not agree to them"
    if not phone.startswith(UK_MOBILE_PREFIX):
        return "Text messages need a UK mobile number, starting 07"
    return None


def may_text(phone: str | None, sms_consent: bool) -> bool:
    """Say whether text messages may go to this participant: agreed, to a UK mobile number."""
    return sms_consent and sms_consent_problem(phone, sms_consent) is None


def language_of(code: str | None) -> Language:
    """The participant's language for what they are sent: English unless they chose Welsh."""
    return Language.WELSH if code == Language.WELSH else Language.ENGLISH
