"""Fill an empty database with national-scale data for the benchmarks.

    python bench/loadgen.py --enrolments N   # the database named by DATABASE_URL

Rows are written in bulk (COPY on PostgreSQL, executemany on SQLite), never one
ORM object at a time. Every constraint holds: a session never takes more
participants than its capacity, ``sessions.booked`` equals its non-cancelled
bookings, and a module has at most one booking still to happen.

The staff accounts it writes have no password, so nobody can sign in as them: the
benchmarks act through API tokens issued by ``accounts.create_token``.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import click
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diversion import clock, create_app  # noqa: E402
from diversion.domain.booking import BookingFacts, EnrolmentFacts  # noqa: E402
from diversion.domain.compliance import flags_due  # noqa: E402
from diversion.domain.holidays import is_public_holiday  # noqa: E402
from diversion.domain.programme import FOLLOW_UP  # noqa: E402
from diversion.extensions import db  # noqa: E402
from diversion.models import Programme  # noqa: E402
from diversion.services.programmes import rules_for  # noqa: E402

FORCES = 50
# Venues per force at the design volume; fewer for smaller runs, so sessions fill alike.
VENUES_PER_FORCE = 4
DESIGN_ENROLMENTS = 120_000
HISTORY_DAYS = 400
CASE_OFFICERS_PER_FORCE = 90
COORDINATORS = 480
ADMINS = 20
CHUNK = 4000
CORE_CAPACITY = 16
FOLLOW_UP_CAPACITY = 20
GIVEN = ("Alex", "Sam", "Jordan", "Chris", "Jamie", "Robin", "Lee", "Daniel", "Mark", "Paul",
         "Steven", "Andrew", "David", "James", "Tom", "Ryan", "Gareth", "Owen", "Adam", "Neil")
FAMILY = ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas",
          "Roberts", "Walker", "Wright", "Hughes", "Green", "Hall", "Wood", "Clarke")

COLUMNS = {
    "forces": ("id", "code", "name", "created_at"),
    "users": ("id", "email", "name", "role", "force_id", "password_hash", "active",
              "session_version", "created_at"),
    "venues": ("id", "name", "address", "rooms", "created_at"),
    "sessions": ("id", "programme_id", "module", "starts_at", "ends_at", "venue_id", "room",
                 "capacity", "booked", "facilitator", "status", "cancel_reason", "created_at",
                 "updated_at"),
    "cases": ("id", "force_id", "reference", "given_name", "family_name", "date_of_birth",
              "email", "phone", "previous_sexual_or_violent_conviction", "first_offence",
              "image_category", "contact_offending_suspected", "children_at_risk",
              "prosecutor_agreed", "participant_consented", "eligible", "ineligible_reasons",
              "created_by_id", "created_at"),
    "enrolments": ("id", "case_id", "force_id", "programme_id", "status", "start_date",
                   "original_core_deadline", "core_deadline", "core_completed_on",
                   "follow_up_due", "follow_up_opens", "follow_up_closes",
                   "follow_up_extension_days", "core_months", "follow_up_months",
                   "follow_up_window_days", "created_by_id", "created_at", "closed_at"),
    "bookings": ("id", "enrolment_id", "session_id", "module", "status", "reason", "uid",
                 "sequence", "created_by_id", "created_at", "updated_at", "cancelled_at",
                 "cancel_reason", "cancel_requested_by"),
    "attendance_records": ("id", "booking_id", "outcome", "reason", "recorded_by_id",
                           "recorded_at"),
    "decisions": ("id", "enrolment_id", "decision", "reason", "extend_days", "decided_by_id",
                  "decided_at"),
    "extensions": ("id", "enrolment_id", "decision_id", "target", "days", "reason",
                   "previous_date", "new_date", "granted_by_id", "granted_at"),
    "flags": ("id", "enrolment_id", "kind", "cause", "detail", "status", "raised_at",
              "closed_at", "closed_by_decision_id"),
}
# Per chunk, parents before children.
CHUNK_TABLES = ("cases", "enrolments", "decisions", "extensions", "bookings",
                "attendance_records", "flags")


def _utc(dt: datetime) -> datetime:
    """Naive UTC, as the UTCDateTime columns store it."""
    return dt.astimezone(UTC).replace(tzinfo=None)


class _Writer:
    """Append rows to tables in bulk on one connection, inside one transaction."""

    def __init__(self, connection: sa.Connection):
        self.connection = connection
        self.dbapi = connection.connection.driver_connection
        self.postgresql = connection.dialect.name == "postgresql"

    def write(self, table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        columns = COLUMNS[table]
        names = ", ".join(columns)
        if self.postgresql:
            with self.dbapi.cursor() as cursor, cursor.copy(
                f"COPY {table} ({names}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor = self.dbapi.cursor()
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                               [tuple(map(_sqlite_value, row)) for row in rows])
            cursor.close()


def _sqlite_value(value):
    # The strings SQLAlchemy's SQLite types write and compare against.
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


@dataclass
class _Calendar:
    """Weekly sessions of every module at every venue; seats left per session."""

    first_monday: date
    weeks: int
    # ids[venue_index][module][week] -> session id, or 0 (holiday or cancelled)
    ids: list = field(default_factory=list)
    starts: dict = field(default_factory=dict)  # (module, week) -> naive UTC start
    days: dict = field(default_factory=dict)  # (module, week) -> local date
    seats: list = field(default_factory=list)  # session id -> seats left

    def weekday(self, module: int) -> int:
        return 5 if module == FOLLOW_UP else module - 1

    def first_week_on_or_after(self, module: int, day: date) -> int:
        offset = (day - self.first_monday).days - self.weekday(module)
        return max(0, -(-offset // 7))

    def take(self, venue: int, module: int, earliest: date, latest: date | None):
        """Take a seat in the first session with room from ``earliest``; None if none."""
        row = self.ids[venue][module]
        for week in range(self.first_week_on_or_after(module, earliest), self.weeks):
            day = self.days[(module, week)]
            if latest is not None and day > latest:
                return None
            sid = row[week]
            if sid and self.seats[sid] > 0:
                self.seats[sid] -= 1
                return sid, week, day
        return None


@dataclass
class _Ids:
    case: int = 0
    enrolment: int = 0
    booking: int = 0
    attendance: int = 0
    decision: int = 0
    extension: int = 0
    flag: int = 0

    def next(self, name: str) -> int:
        value = getattr(self, name) + 1
        setattr(self, name, value)
        return value


def generate(enrolments: int, *, seed: int = 7, echo=click.echo) -> dict:
    """Write forces, staff, venues, a year of sessions and ``enrolments`` participants."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(sa.table("forces"))):
        raise click.ClickException("the load generator needs an empty database (forces exist)")
    programme = db.session.scalar(sa.select(Programme).order_by(Programme.id))
    if programme is None:
        raise click.ClickException("no programme: run `flask db upgrade` first")
    rules = rules_for(programme)
    rng = random.Random(seed)
    now = clock.now()
    today = clock.today(rules.tz)
    db.session.close()
    counts: dict[str, int] = {}
    # Venues grow with the participants so sessions keep the same fill at any size.
    venues = max(1, round(VENUES_PER_FORCE * enrolments / DESIGN_ENROLMENTS))
    began = time_now = _timer()
    with db.engine.begin() as connection:
        writer = _Writer(connection)
        officers = _staff(writer, counts, _utc(now) - timedelta(days=500), venues)
        calendar = _sessions(writer, counts, rules, programme.id, today, now, venues)
        stages = {"staff and sessions": _timer() - time_now}
        time_now = _timer()
        state = _Ids()
        with click.progressbar(length=enrolments, label="enrolments") as bar:
            done = 0
            while done < enrolments:
                size = min(CHUNK, enrolments - done)
                rows = {name: [] for name in CHUNK_TABLES}
                enrolled = 0
                while enrolled < size:
                    # Some cases are screened out: keep going until SIZE are enrolled.
                    enrolled += _participant(rng, rows, state, calendar, officers, venues,
                                             rules, programme.id, today, now)
                for name in CHUNK_TABLES:
                    writer.write(name, rows[name])
                    counts[name] = counts.get(name, 0) + len(rows[name])
                done += size
                bar.update(size)
        stages["participants"] = _timer() - time_now
        time_now = _timer()
        _finish(connection)
        stages["counters and analyse"] = _timer() - time_now
    if db.engine.dialect.name == "postgresql":
        # As after any bulk load (pg_restore does the same): fresh rows carry no
        # visibility map, so without this every index-only read would visit the table
        # until autovacuum came round, and the benchmarks would measure that instead.
        time_now = _timer()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
            vacuum.execute(sa.text("VACUUM ANALYZE"))
        stages["vacuum"] = _timer() - time_now
    echo(", ".join(f"{v} {k}" for k, v in counts.items()))
    echo(", ".join(f"{k} {v:.1f} s" for k, v in stages.items())
         + f"; total {_timer() - began:.1f} s")
    return counts


def _timer() -> float:
    import time as timer

    return timer.perf_counter()


def _staff(writer: _Writer, counts: dict, created: datetime, venues_per_force: int) -> list:
    forces = [(i, f"F{i:02d}", f"Force {i:02d} Constabulary", created)
              for i in range(1, FORCES + 1)]
    users, officers = [], []
    uid = 0
    for role, count in (("admin", ADMINS), ("coordinator", COORDINATORS)):
        for n in range(count):
            uid += 1
            users.append((uid, f"{role}{n}@load.diversion.test", f"{role.title()} {n}", role,
                          None, None, True, 1, created))
    for force_id, *_ in forces:
        mine = []
        for n in range(CASE_OFFICERS_PER_FORCE):
            uid += 1
            users.append((uid, f"officer{n}.f{force_id:02d}@load.diversion.test",
                          f"Officer {n}", "case_officer", force_id, None, True, 1, created))
            mine.append(uid)
        officers.append(mine)
    venues = [
        (v, f"Venue {v}", f"{v} Station Road, Town {v // venues_per_force}",
         "Room 1\nRoom 2", created)
        for v in range(1, FORCES * venues_per_force + 1)
    ]
    writer.write("forces", forces)
    writer.write("users", users)
    writer.write("venues", venues)
    counts.update(forces=len(forces), users=len(users), venues=len(venues))
    return officers


def _sessions(writer, counts, rules, programme_id, today, now, venues) -> _Calendar:
    # Weekly sessions from the first enrolment's start to three months ahead.
    start = today - timedelta(days=HISTORY_DAYS)
    first_monday = start - timedelta(days=start.weekday())
    weeks = (today + timedelta(days=92) - first_monday).days // 7 + 1
    calendar = _Calendar(first_monday, weeks)
    for module in (FOLLOW_UP, *rules.core_module_numbers):
        hour = 10 if module == FOLLOW_UP else 18
        for week in range(weeks):
            day = first_monday + timedelta(days=7 * week + calendar.weekday(module))
            local = datetime.combine(day, time(hour), tzinfo=rules.tz)
            calendar.starts[(module, week)] = _utc(local)
            calendar.days[(module, week)] = day
    rng = random.Random(11)
    holiday = {key for key, day in calendar.days.items()
               if is_public_holiday(day, rules.holiday_region)}
    rows, seats = [], [0]
    duration = timedelta(minutes=rules.session_minutes)
    created = _utc(now) - timedelta(days=300)
    for venue in range(FORCES * venues):
        per_module = {}
        for module in (FOLLOW_UP, *rules.core_module_numbers):
            capacity = FOLLOW_UP_CAPACITY if module == FOLLOW_UP else CORE_CAPACITY
            row = []
            for week in range(weeks):
                if (module, week) in holiday:
                    row.append(0)
                    continue
                sid = len(seats)
                starts = calendar.starts[(module, week)]
                cancelled = rng.random() < 0.01
                rows.append((sid, programme_id, module, starts, starts + duration, venue + 1,
                             "Room 1", capacity, 0, "A. Facilitator",
                             "cancelled" if cancelled else "scheduled",
                             "Facilitator unwell" if cancelled else None, created, created))
                seats.append(0 if cancelled else capacity)
                row.append(0 if cancelled else sid)
            per_module[module] = row
        calendar.ids.append(per_module)
    calendar.seats = seats
    writer.write("sessions", rows)
    counts["sessions"] = len(rows)
    return calendar


def _participant(rng, rows, ids, calendar, officers, venues, rules, programme_id, today,
                 now) -> int:
    """Add one case; return 1 if it was enrolled, 0 if it was screened out."""
    force = rng.randrange(FORCES)
    officer = rng.choice(officers[force])
    venue = force * venues + rng.randrange(venues)
    start = today - timedelta(days=rng.randrange(HISTORY_DAYS - 21))
    created = _utc(datetime.combine(start, time(10), tzinfo=UTC))
    case_id = ids.next("case")
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    rows["cases"].append((
        case_id, force + 1, f"LG/{case_id:07d}", given, family,
        date(1960 + rng.randrange(45), 1 + rng.randrange(12), 1 + rng.randrange(28)),
        f"{given.lower()}.{family.lower()}.{case_id}@example.com", f"07700 {case_id % 1000000:06d}",
        False, True, "C", False, False, True, True, True, "", officer, created))
    if rng.random() < 0.04:
        return 0  # screened and found ineligible would look the same here: no enrolment
    eid = ids.next("enrolment")
    deadline = rules.core_deadline(start)
    enrolment = {
        "status": "enrolled", "core_deadline": deadline, "completed_on": None, "due": None,
        "opens": None, "closes": None, "closed_at": None,
    }
    fate = rng.random()
    if fate < 0.03:
        decision = ids.next("decision")
        rows["decisions"].append((decision, eid, "continue", "Illness; extension agreed", 14,
                                  officer, created + timedelta(days=30)))
        rows["extensions"].append((ids.next("extension"), eid, decision, "core_deadline", 14,
                                   "Illness; extension agreed", deadline,
                                   deadline + timedelta(days=14), officer,
                                   created + timedelta(days=30)))
        enrolment["core_deadline"] = deadline = deadline + timedelta(days=14)
    stops_after = 5
    if fate > 0.9:  # drops out, is referred or withdraws part way
        stops_after = rng.randrange(0, 5)
    first = len(rows["bookings"])
    facts = _bookings(rng, rows, ids, calendar, venue, eid, officer, start, deadline, rules,
                      today, now, stops_after, enrolment)
    if fate > 0.97:
        enrolment["status"] = "referred" if fate > 0.985 else "withdrawn"
        enrolment["closed_at"] = _utc(now) - timedelta(days=rng.randrange(1, 30))
        _cancel_booked(rows["bookings"], first, calendar, enrolment["closed_at"])
        if enrolment["status"] == "referred":
            rows["decisions"].append((ids.next("decision"), eid, "refer",
                                      "The prosecutor ended the agreement", None, officer,
                                      enrolment["closed_at"]))
    rows["enrolments"].append((
        eid, case_id, force + 1, programme_id, enrolment["status"], start,
        rules.core_deadline(start), enrolment["core_deadline"], enrolment["completed_on"],
        enrolment["due"], enrolment["opens"], enrolment["closes"], 0, rules.core_months,
        rules.follow_up_months, rules.follow_up_window_days, officer, created,
        enrolment["closed_at"]))
    if enrolment["status"] in ("enrolled", "awaiting_follow_up") and rng.random() < 0.5:
        # Some flags were raised by earlier sweeps; the rest are left for the next one.
        state = EnrolmentFacts(enrolment["status"], start, enrolment["core_deadline"],
                               (enrolment["opens"], enrolment["closes"])
                               if enrolment["opens"] else None, tuple(facts))
        for due in flags_due(rules, state, today - timedelta(days=1)):
            rows["flags"].append((ids.next("flag"), eid, due.kind, due.cause, due.detail,
                                  "open", _utc(now) - timedelta(days=1), None, None))
    return 1


def _bookings(rng, rows, ids, calendar, venue, eid, officer, start, deadline, rules, today,
              now, stops_after, enrolment) -> list[BookingFacts]:
    facts: list[BookingFacts] = []
    naive_now = _utc(now)
    plans_ahead = rng.random() < 0.8
    earliest = start + timedelta(days=rng.randrange(3, 21))
    last_core = None
    module, attended = 1, 0
    while module <= rules.core_modules and attended < stops_after:
        seat = calendar.take(venue, module, earliest, deadline)
        if seat is None:
            return facts
        sid, week, day = seat
        starts = calendar.starts[(module, week)]
        past = starts < naive_now
        if not past and module > 1 and not plans_ahead and facts and \
                facts[-1].status == "booked":
            calendar.seats[sid] += 1
            return facts
        outcome = "booked"
        if past:
            roll = rng.random()
            outcome = ("attended" if roll < 0.94 else "absent_excused" if roll < 0.97
                       else "absent_unexcused")
        if rng.random() < 0.02:
            calendar.seats[sid] += 1  # booked, then cancelled: the seat goes back
            outcome = "cancelled"
        _booking(rows, ids, eid, sid, module, outcome, starts, officer, facts)
        if outcome == "attended":
            attended += 1
            last_core = day
        if outcome in ("attended", "booked"):
            module += 1
        earliest = day + timedelta(days=rules.min_days_between_sessions + rng.randrange(0, 10))
    if attended == rules.core_modules:
        _follow_up(rng, rows, ids, calendar, venue, eid, officer, rules, naive_now, last_core,
                   enrolment, facts)
    return facts


def _follow_up(rng, rows, ids, calendar, venue, eid, officer, rules, naive_now, last_core,
               enrolment, facts) -> None:
    due = rules.follow_up_due(last_core)
    opens, closes = rules.follow_up_window(due)
    enrolment.update(status="awaiting_follow_up", completed_on=last_core, due=due,
                     opens=opens, closes=closes)
    if rng.random() < 0.1:
        return  # has not booked the follow-up (yet)
    seat = calendar.take(venue, FOLLOW_UP, opens, closes)
    if seat is None:
        return
    sid, week, _ = seat
    starts = calendar.starts[(FOLLOW_UP, week)]
    outcome = "booked"
    if starts < naive_now:
        outcome = "attended" if rng.random() < 0.9 else "absent_unexcused"
    _booking(rows, ids, eid, sid, FOLLOW_UP, outcome, starts, officer, facts)
    if outcome == "attended":
        enrolment.update(status="completed", closed_at=starts + timedelta(hours=2))


def _cancel_booked(bookings: list, first: int, calendar: _Calendar, at: datetime) -> None:
    # A closed enrolment keeps no booking still to happen.
    for index in range(first, len(bookings)):
        row = bookings[index]
        if row[4] == "booked":
            calendar.seats[row[2]] += 1
            bookings[index] = (*row[:4], "cancelled", row[5], row[6], row[7] + 1, row[8],
                               row[9], at, at, "Arrangement ended", "case officer")


def _booking(rows, ids, eid, sid, module, status, starts, officer, facts) -> None:
    bid = ids.next("booking")
    made = starts - timedelta(days=10)
    cancelled = status == "cancelled"
    rows["bookings"].append((
        bid, eid, sid, module, status,
        "Unwell, sent a note" if status == "absent_excused" else None,
        f"lg{bid:x}@diversion", 1 if cancelled else 0, None, made, made,
        made + timedelta(days=1) if cancelled else None,
        "Participant asked to move" if cancelled else None,
        "participant" if cancelled else None))
    if status in ("attended", "absent_excused", "absent_unexcused"):
        rows["attendance_records"].append((
            ids.next("attendance"), bid, status,
            "Unwell, sent a note" if status == "absent_excused" else None, None,
            starts + timedelta(hours=2)))
    facts.append(BookingFacts(bid, sid, module, starts.replace(tzinfo=UTC), status))


def _finish(connection: sa.Connection) -> None:
    """Set each session's booked counter from its bookings; move sequences on; analyse."""
    connection.execute(sa.text(
        "UPDATE sessions SET booked = (SELECT count(*) FROM bookings b "
        "WHERE b.session_id = sessions.id AND b.status <> 'cancelled')"
    ))
    if connection.dialect.name == "postgresql":
        for table in ("forces", "users", "venues", "sessions", *CHUNK_TABLES):
            connection.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"))
    connection.execute(sa.text("ANALYZE"))


@click.command()
@click.option("--enrolments", "count", type=click.IntRange(1, 2_000_000), default=12_000,
              show_default=True, help="How many participants to enrol")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed")
def main(count: int, seed: int) -> None:
    """Fill the empty database at DATABASE_URL with forces, staff, sessions and participants."""
    with create_app().app_context():
        generate(count, seed=seed)


if __name__ == "__main__":
    main()
