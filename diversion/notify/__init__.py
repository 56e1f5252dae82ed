"""Mail to participants: build each outbox row into an email and deliver it over SMTP."""
