"""Pulse pages: survey (contacts, no login), recording (staff), status (account teams)."""
