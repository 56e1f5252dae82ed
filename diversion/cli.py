"""Command-line operations: ``flask --app wsgi COMMAND``."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from diversion.domain.vocabulary import Role, values
from diversion.services import InvalidInput, NotFound, accounts


def register(app: Flask) -> None:
    for command in (create_force, create_user, create_token, revoke_tokens, seed_demo, sweep,
                    send_mail, scheduler, run_job):
        app.cli.add_command(command)


def _fail(message: str) -> None:
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
    """Deliver everything due in the outbox, then print a one-line summary."""
    from diversion.notify import delivery

    try:
        result = delivery.deliver_all()
    except delivery.MailConfigError as error:
        _fail(f"mail is not configured: {error}")
    click.echo(result.summary())


@click.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Run the background jobs in the foreground until stopped (SIGTERM or Ctrl-C)."""
    from flask import current_app

    from diversion.jobs.scheduler import run

    run(current_app._get_current_object())


@click.command("run-job")
@click.argument("job", type=click.Choice(["send_mail", "sweep", "digest", "retention"]))
@with_appcontext
def run_job(job: str) -> None:
    """Run one scheduled job now, with the same exactly-once guard as the scheduler."""
    from diversion.jobs import tasks

    summary = {"send_mail": tasks.deliver_mail, "sweep": tasks.sweep, "digest": tasks.digest,
               "retention": tasks.retention}[job]()
    click.echo(summary or f"{job}: already done for this slot, or running elsewhere")
