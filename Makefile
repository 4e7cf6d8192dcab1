# Convenience aliases; the scripts do the work (make is not needed on a fresh machine).
.PHONY: run test setup lint format db-start db-stop clean-db

run:
	scripts/run.sh

test:
	scripts/test.sh

setup:
	scripts/setup.sh --dev

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	DJANGO_DEBUG=1 .venv/bin/python manage.py makemigrations --check --dry-run

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

db-start:
	scripts/pg-local.sh start

db-stop:
	scripts/pg-local.sh stop

clean-db: db-stop
	rm -rf .pg
