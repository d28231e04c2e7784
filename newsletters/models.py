"""Subscriptions and editions arrive with the newsletter issue."""
