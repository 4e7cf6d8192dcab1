"""Writes: typed service functions, each in one transaction.

Views, API, management commands, admin actions and Celery tasks all call these; models
hold no write logic of their own.
"""
