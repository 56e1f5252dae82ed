"""Staff accounts, forces, passwords and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from importlib import resources

import sqlalchemy as sa
import sqlalchemy.orm as so
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from diversion import clock
from diversion.database import transaction
from diversion.domain.intake import email_problem
from diversion.domain.staff import check_disable
from diversion.domain.text import has_unusable_characters, without_unusable_characters
from diversion.domain.vocabulary import Role, values
from diversion.extensions import db
from diversion.models import ApiToken, Force, User
from diversion.services import Actor, InvalidInput, NotFound, audit, like_term

_hasher = PasswordHasher()
# Verifying against this keeps failed logins for unknown emails as slow as real ones.
_DUMMY_HASH = _hasher.hash("not-a-real-password-at-all")

MIN_PASSWORD = 8
MAX_PASSWORD = 128


@lru_cache(maxsize=1)
def _breached() -> frozenset[str]:
    text = resources.files("diversion.data").joinpath("breached_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problem(password: str) -> str | None:
    """Say what is wrong with a new password, or None if it will do."""
    if len(password) < MIN_PASSWORD:
        return f"Password must be {MIN_PASSWORD} characters or more"
    if len(password) > MAX_PASSWORD:
        return f"Password must be {MAX_PASSWORD} characters or fewer"
    if password.lower() in _breached():
        return "This password is well known from data breaches; choose another"
    return None


def hash_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise InvalidInput(problem, field="password")
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_force(code: str, name: str) -> Force:
    """Create a police force (code is its short unique name)."""
    code = code.strip().upper()
    name = name.strip()
    if not code or len(code) > 16 or not code.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("Enter a force code of up to 16 letters or digits", field="code")
    if not name or len(name) > 200:
        raise InvalidInput("Enter the force name (up to 200 characters)", field="name")
    with transaction():
        if db.session.scalar(sa.select(Force).where(Force.code == code)):
            raise InvalidInput(f"A force with code {code} already exists", field="code")
        force = Force(code=code, name=name, created_at=clock.now())
        db.session.add(force)
    return force


def list_forces() -> list[Force]:
    return list(db.session.scalars(sa.select(Force).order_by(Force.code)))


def force_by_code(code: str) -> Force | None:
    return db.session.scalar(sa.select(Force).where(Force.code == code.strip().upper()))


def create_user(
    email: str,
    role: str,
    *,
    password: str | None = None,
    force_code: str | None = None,
    name: str = "",
    actor: Actor | None = None,
) -> User:
    """Create a staff account; case officers must belong to a force."""
    email = normalise_email(email)
    if len(email) > 254 or email_problem(email, allow_test_domain=_test_domains_allowed()):
        raise InvalidInput("Enter an email address like name@example.gov.uk", field="email")
    if role not in values(Role):
        raise InvalidInput(f"Role must be one of: {', '.join(values(Role))}", field="role")
    if has_unusable_characters(name):
        raise InvalidInput("Name must not include hidden or invalid characters", field="name")
    force = None
    if force_code and role != Role.CASE_OFFICER:
        # A force scopes what a case officer sees. Coordinators serve many forces and
        # administrators all of them: a force on their account would read as a limit
        # the service never applies, so it is refused rather than stored.
        raise InvalidInput("Only a case officer belongs to a force: choose no force",
                           field="force")
    if force_code:
        force = force_by_code(force_code)
        if force is None:
            raise InvalidInput(f"No force with code {force_code}", field="force")
    if role == Role.CASE_OFFICER and force is None:
        raise InvalidInput("A case officer must belong to a force", field="force")
    password_hash = hash_password(password) if password is not None else None
    with transaction():
        if db.session.scalar(sa.select(User).where(User.email == email)):
            raise InvalidInput("An account with this email already exists", field="email")
        user = User(
            email=email,
            name=name.strip()[:200],
            role=role,
            force_id=force.id if force else None,
            password_hash=password_hash,
            created_at=clock.now(),
        )
        db.session.add(user)
        db.session.flush()
        audit.record(actor or Actor.system("cli"), "create", "user", user.id,
                     detail={"role": role})
    return user


def _test_domains_allowed() -> bool:
    from flask import current_app, has_app_context

    return not (has_app_context() and current_app.config.get("ENV_NAME") == "production")


def user_by_email(email: str) -> User | None:
    if has_unusable_characters(email):
        return None  # no account has one; the database could not even compare it
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def list_users(*, search: str | None = None, after: str | None = None,
               before: str | None = None, limit: int = 50) -> tuple[list[User], bool, bool]:
    """Return a page of staff accounts by email, and whether pages lie before and after it.

    Keyset-paginated on the unique email, so a page costs the same with 5,000 staff.
    """
    query = sa.select(User).options(so.joinedload(User.force))
    if search and search.strip():
        term = like_term(search)
        query = query.where(sa.or_(sa.func.lower(User.email).like(term, escape="\\"),
                                   sa.func.lower(User.name).like(term, escape="\\")))
    if before is not None:
        rows = list(db.session.scalars(
            query.where(User.email < before).order_by(User.email.desc()).limit(limit + 1)))
        earlier, rows = len(rows) > limit, rows[:limit][::-1]
        return rows, earlier, True
    if after is not None:
        query = query.where(User.email > after)
    rows = list(db.session.scalars(query.order_by(User.email).limit(limit + 1)))
    return rows[:limit], after is not None, len(rows) > limit


def get_user(user_id: int) -> User:
    """Return a staff account, or raise NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("user")
    return user


def set_active(user_id: int, active: bool, actor: Actor) -> User:
    """Enable or disable an account; disabling ends its sessions at once."""
    with transaction():
        # Every active administrator is locked, so two of them disabling each other at
        # once cannot leave none.
        admins = set(db.session.scalars(
            sa.select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))
            .order_by(User.id).with_for_update()))
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("user", user_id)
        if not active and user.active:
            check_disable(actor_id=actor.user_id, user_id=user.id, role=user.role,
                          other_active_admins=len(admins - {user.id}))
        user.active = active
        user.session_version += 1
        audit.record(actor, "update", "user", user.id, detail={"active": active})
    return user


def authenticate(email: str, password: str, remote_addr: str | None = None) -> User | None:
    """Check a password; log the attempt either way; rehash when parameters change."""
    user = user_by_email(email) if len(email) <= 254 else None
    ok = False
    if user is None or not user.password_hash:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            pass
    else:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    subject = Actor(
        user_id=user.id if user else None,
        email=without_unusable_characters(normalise_email(email))[:254] or "unknown",
        role=user.role if user else "unknown",
        remote_addr=remote_addr,
    )
    with transaction():
        if ok and user is not None and user.active and user.password_hash:
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            user.last_login_at = clock.now()
            audit.record(subject, "login", "user", user.id)
            return user
        audit.record(subject, "login_failed", "user", user.id if user else None)
    return None


def end_sessions(user_id: int) -> None:
    """Invalidate every web session of this user (logout)."""
    with transaction():
        user = db.session.get(User, user_id)
        if user is not None:
            user.session_version += 1


def _token_hash(token: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough (no salt
    # needed against guessing) and lookups stay one indexed equality.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(email: str) -> str:
    """Issue an API bearer token for a user; only its hash is stored."""
    user = user_by_email(email)
    if user is None:
        raise NotFound("user")
    token = secrets.token_urlsafe(32)
    with transaction():
        db.session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token),
                                created_at=clock.now()))
        audit.record(Actor.system("cli"), "create", "api_token", user.id)
    return token


def revoke_tokens(email: str) -> int:
    """Revoke every token of a user; return how many were live."""
    user = user_by_email(email)
    if user is None:
        raise NotFound("user")
    with transaction():
        revoked = db.session.scalars(
            sa.update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=clock.now())
            .returning(ApiToken.id)
        ).all()
        audit.record(Actor.system("cli"), "delete", "api_token", user.id)
    return len(revoked)


def actor_for(user: User | sa.Row, remote_addr: str | None = None) -> Actor:
    """The actor a user (or a row with their id, email, role and force) acts as."""
    return Actor(user_id=user.id, email=user.email, role=user.role, force_id=user.force_id,
                 remote_addr=remote_addr)


@lru_cache(maxsize=1)
def _token_statement() -> sa.Select:
    # Table columns, built once: every API request runs it, and plain rows are all it needs.
    u, t = User.__table__.c, ApiToken.__table__.c
    return (sa.select(u.id, u.email, u.role, u.force_id)
            .join_from(User.__table__, ApiToken.__table__, t.user_id == u.id)
            .where(t.token_hash == sa.bindparam("hash"), t.revoked_at.is_(None),
                   u.active.is_(True)))


def actor_for_token(token: str, remote_addr: str | None = None) -> Actor | None:
    """Return the actor holding this live token, or None: one indexed lookup per request."""
    if not token or len(token) > 200:
        return None
    row = db.session.execute(_token_statement(), {"hash": _token_hash(token)}).first()
    return None if row is None else actor_for(row, remote_addr)


# ---- second factor for administrators (TOTP, RFC 6238) ----------------------

TOTP_ISSUER = "Diversion staff"


def needs_second_factor(user: User) -> bool:
    """Administrators always sign in with a code from an authenticator app."""
    return user.role == Role.ADMIN


def totp_setup_secret(user_id: int) -> str:
    """Return the unconfirmed secret to show at setup, creating it the first time."""
    import pyotp

    with transaction():
        user = db.session.get_one(User, user_id)
        if user.totp_confirmed_at is not None:
            raise InvalidInput("A second factor is already set up", field="code")
        if not user.totp_secret:
            user.totp_secret = pyotp.random_base32()
        return user.totp_secret


def totp_uri(user: User) -> str:
    import pyotp

    if not user.totp_secret:
        raise InvalidInput("No second factor is being set up", field="code")
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email,
                                                         issuer_name=TOTP_ISSUER)


def check_second_factor(user_id: int, code: str, remote_addr: str | None = None, *,
                        attempts: int = 5) -> bool:
    """Accept a current code once (confirming setup the first time); log either way.

    The ``attempts``-th wrong code in a row locks the second factor, from whatever
    address and in whichever web process the codes came: the count is on the account
    row, so no throttle store has to be shared for it to hold. Until an administrator
    clears the lock (``clear_second_factor_lock``), every code is refused.
    """
    import pyotp

    code = (code or "").strip().replace(" ", "")
    with transaction():
        user = db.session.scalar(sa.select(User).where(User.id == user_id).with_for_update())
        ok = False
        locked = user is not None and user.second_factor_locked_at is not None
        if not locked and user is not None and user.totp_secret and code.isdigit() \
                and len(code) == 6:
            totp = pyotp.TOTP(user.totp_secret)
            now = clock.now()
            for offset in (0, -1, 1):  # one step of clock drift either way
                step = totp.timecode(clock.unmoved_now()) + offset
                if totp.generate_otp(step) == code and step > (user.totp_last_step or -1):
                    ok = True
                    user.totp_last_step = step
                    user.second_factor_failures = 0
                    if user.totp_confirmed_at is None:
                        user.totp_confirmed_at = now
                    break
        if user is not None and not ok and not locked:
            user.second_factor_failures += 1
            if user.second_factor_failures >= attempts:
                user.second_factor_locked_at = clock.now()
                locked = True
        subject = Actor(user_id=user_id, email=user.email if user else "unknown",
                        role=user.role if user else "unknown", remote_addr=remote_addr)
        action = "second_factor" if ok else "second_factor_locked" if locked \
            else "second_factor_failed"
        audit.record(subject, action, "user", user_id)
    return ok


def second_factor_locked(user_id: int) -> bool:
    """Say whether this account's second factor is locked after too many wrong codes."""
    return db.session.scalar(
        sa.select(User.second_factor_locked_at.is_not(None)).where(User.id == user_id)) is True


def clear_second_factor_lock(user_id: int, actor: Actor) -> User:
    """Let an account try codes again after a lockout; the clearing is audited."""
    with transaction():
        user = db.session.scalar(sa.select(User).where(User.id == user_id).with_for_update())
        if user is None:
            raise NotFound("user", user_id)
        if user.second_factor_locked_at is not None or user.second_factor_failures:
            audit.record(actor, "update", "user", user.id, detail={
                "second_factor_lock": "cleared", "failures": user.second_factor_failures})
        user.second_factor_locked_at = None
        user.second_factor_failures = 0
    return user
