"""A few reply templates in French and English, so operators can answer from day one.

They are ordinary rows: the city edits or replaces them in the admin. Reversing this
migration removes only the templates it created, by name, if nobody changed them.
"""

from django.db import migrations

DEFAULTS = [
    (
        "Accusé de réception",
        "fr",
        10,
        "Bonjour, merci de nous avoir alertés. Votre signalement ({category}, {street}) est enregistré "
        "sous le numéro {incident} et nos équipes vont l'examiner.",
    ),
    (
        "Acknowledgement",
        "en",
        10,
        "Hello, thank you for letting us know. Your report ({category}, {street}) is recorded as "
        "number {incident} and our teams will look into it.",
    ),
    (
        "Équipe envoyée",
        "fr",
        20,
        "Bonjour, merci pour votre signalement. Une équipe a été envoyée {street} pour traiter le problème "
        "(signalement {incident}).",
    ),
    (
        "Crew dispatched",
        "en",
        20,
        "Hello, thank you for your report. A crew has been sent to {street} to deal with it (report {incident}).",
    ),
    (
        "Résolu",
        "fr",
        30,
        "Bonjour, le problème que vous nous avez signalé {street} ({category}) est résolu. Merci de votre aide !",
    ),
    (
        "Resolved",
        "en",
        30,
        "Hello, the problem you reported on {street} ({category}) has been fixed. Thank you for your help!",
    ),
    (
        "Chantier en cours",
        "fr",
        40,
        "Bonjour, merci de votre message. Des travaux sont en cours à proximité ; nous avons transmis votre "
        "remarque au responsable du chantier (signalement {incident}).",
    ),
    (
        "Roadworks nearby",
        "en",
        40,
        "Hello, thank you for your message. Roadworks are under way nearby; we have passed your remark on to "
        "the site manager (report {incident}).",
    ),
]


def create_defaults(apps, schema_editor):
    ReplyTemplate = apps.get_model("incidents", "ReplyTemplate")
    for name, language, position, body in DEFAULTS:
        ReplyTemplate.objects.get_or_create(
            name=name, language=language, defaults={"body": body, "position": position, "is_active": True}
        )


def remove_defaults(apps, schema_editor):
    ReplyTemplate = apps.get_model("incidents", "ReplyTemplate")
    for name, language, _position, body in DEFAULTS:
        ReplyTemplate.objects.filter(name=name, language=language, body=body).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0003_reply_templates_and_replies"),
    ]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
