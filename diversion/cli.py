"""Command-line operations: ``flask --app wsgi COMMAND``."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from flask import Flask
from flask.cli import with_appcontext

from diversion.domain.vocabulary import Role, values
from diversion.services import InvalidInput, NotFound, accounts


def register(app: Flask) -> None:
    from flask_migrate.cli import db as db_commands

    for command in (create_force, create_user, create_token, revoke_tokens,
                    unlock_second_factor, seed_demo, sweep, send_mail, scheduler, run_job,
                    mail_sink):
        app.cli.add_command(command)
    db_commands.add_command(grant_app_role)


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@click.command("create-force")
@with_appcontext
@click.argument("code")
@click.argument("name")
def create_force(code: str, name: str) -> None:
    """Create a police force with a short CODE and a NAME."""
    try:
        force = accounts.create_force(code, name)
    except InvalidInput as error:
        _fail(error.message)
    click.echo(f"Created force {force.code}: {force.name}")


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(values(Role)))
@click.option("--force", "force_code", default=None, help="Force code (case officers)")
@click.option("--name", default="", help="Full name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
def create_user(email: str, role: str, force_code: str | None, name: str,
                password_stdin: bool) -> None:
    """Create a staff account; without --password-stdin it is prompted for."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(email, role, password=password, force_code=force_code,
                                    name=name)
    except InvalidInput as error:
        _fail(error.message)
    click.echo(f"Created {user.role} {user.email}", err=True)


@click.command("create-token")
@with_appcontext
@click.argument("email")
def create_token(email: str) -> None:
    """Print a new API bearer token for EMAIL, and nothing else."""
    try:
        token = accounts.create_token(email)
    except NotFound:
        _fail(f"no user {email}")
    click.echo(token)


@click.command("revoke-tokens")
@with_appcontext
@click.argument("email")
def revoke_tokens(email: str) -> None:
    """Revoke every API token of EMAIL."""
    try:
        count = accounts.revoke_tokens(email)
    except NotFound:
        _fail(f"no user {email}")
    click.echo(f"Revoked {count} token(s)")


@click.command("unlock-second-factor")
@with_appcontext
@click.argument("email")
def unlock_second_factor(email: str) -> None:
    """Let EMAIL try second-factor codes again after a lockout (when no administrator can)."""
    from diversion.services import Actor

    user = accounts.user_by_email(email)
    if user is None:
        _fail(f"no user {email}")
    accounts.clear_second_factor_lock(user.id, Actor.system("cli"))
    click.echo(f"{user.email} can sign in with a code again")


@click.command("grant-app-role")
@with_appcontext
@click.option("--role", default=None,
              help="The application's role (default: the user in DATABASE_URL)")
@click.option("--password-stdin", is_flag=True,
              help="Set its password from standard input (default: the one in DATABASE_URL)")
def grant_app_role(role: str | None, password_stdin: bool) -> None:
    """Create the application's database role if missing and grant it only what it needs.

    Runs as the schema's owner (MIGRATION_DATABASE_URL), after `db upgrade`. PostgreSQL
    only.
    """
    import sqlalchemy as sa
    from flask import current_app

    from diversion.db_roles import grant_app_role as grant

    app_url = sa.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if app_url.get_backend_name() != "postgresql":
        click.echo("SQLite has no database roles: nothing to grant")
        return
    owner_uri: str | None = current_app.config.get("MIGRATION_DATABASE_URI")
    if not owner_uri:
        _fail("set MIGRATION_DATABASE_URL to the schema owner's URL, and DATABASE_URL "
                     "to the application's role")
    role = role or app_url.username
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else app_url.password
    if not role or role == sa.make_url(owner_uri).username:
        _fail("DATABASE_URL names the schema owner: give the application a role of "
                     "its own")
    engine = sa.create_engine(owner_uri, hide_parameters=True)
    try:
        with engine.begin() as connection:
            grant(connection, role, password or None)
    except ValueError as error:
        _fail(str(error))
    finally:
        engine.dispose()
    click.echo(f"{role} may use the rows, and only add to and read audit_events")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when staff accounts exist")
def seed_demo(if_empty: bool) -> None:
    """Load a realistic demo data set (forces, staff, participants at every stage)."""
    from flask import current_app

    from diversion.demo import seed

    if current_app.config["ENV_NAME"] == "production":
        # Demo accounts in production would be default accounts with known names.
        _fail("seed-demo never runs in production (DIVERSION_ENV=production)")

    seed(if_empty=if_empty, echo=click.echo)


@click.command("sweep")
@with_appcontext
def sweep() -> None:
    """Run the compliance sweep once, as of the clock, and print a one-line summary."""
    from diversion.services import compliance

    click.echo(compliance.sweep().summary())


@click.command("send-mail")
@with_appcontext
def send_mail() -> None:
    """Deliver everything due in the outbox, then print a one-line summary.

    The scheduler's mail job, run now under the same guard: while another process
    (a scheduler) is delivering, this one sends nothing.
    """
    from diversion.jobs import tasks
    from diversion.jobs.runs import GuardLost
    from diversion.notify import delivery

    try:
        summary = tasks.deliver_mail()
    except delivery.MailConfigError as error:
        _fail(f"mail is not configured: {error}")
    except GuardLost as error:
        _fail(str(error))
    if summary is None:
        summary = delivery.DeliveryResult().summary()
        if delivery.anything_due():
            click.echo("another process is delivering mail now", err=True)
    click.echo(summary)


@click.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Run the background jobs in the foreground until stopped (SIGTERM or Ctrl-C)."""
    from flask import current_app

    from diversion.jobs.scheduler import run

    run(current_app._get_current_object())  # type: ignore[attr-defined]


@click.command("run-job")
@click.argument("job", type=click.Choice(["send_mail", "sweep", "digest", "retention"]))
@with_appcontext
def run_job(job: str) -> None:
    """Run one scheduled job now, with the same exactly-once guard as the scheduler."""
    from diversion.jobs import tasks

    if job == "send_mail":
        summary = tasks.deliver_mail()
    else:
        # By hand: a slot that failed runs again however often it has.
        summary = {"sweep": tasks.sweep, "digest": tasks.digest,
                   "retention": tasks.retention}[job](attempts=None)
    click.echo(summary or f"{job}: already done for this slot, or running elsewhere")


@click.command("mail-sink")
@with_appcontext
def mail_sink() -> None:
    """Keep every message sent to MAIL_SINK_PORT as a file in MAIL_SINK_DIR (never send it)."""
    from pathlib import Path

    from flask import current_app

    from diversion.notify.sink import serve

    config = current_app.config
    if not config["MAIL_SINK"]:
        _fail("the mail sink is off here (MAIL_SINK=off, or DIVERSION_ENV=production "
              "without MAIL_SINK=on)")
    folder = Path(config["MAIL_SINK_DIR"])
    click.echo(f"Mail sink on 127.0.0.1:{config['MAIL_SINK_PORT']}: every message is "
               f"kept in {folder}, and none is sent")
    try:
        serve(folder, config["MAIL_SINK_PORT"])
    except OSError as error:
        _fail(f"the mail sink cannot listen on port {config['MAIL_SINK_PORT']}: {error}")
