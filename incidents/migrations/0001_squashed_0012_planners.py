"""The schema of 0001 to 0012 in one migration, with what the models cannot say.

Squashed before the first release: a database migrated to 0012 records this one as applied
and runs nothing (``replaces``); a new one runs it alone. The backfills of the replaced
migrations had no rows to fill on a new database and are left out. Beyond the models:
the default reply templates, and the triggers that keep the works impact table current.
"""

import django.contrib.gis.db.models.fields
import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import incidents.geo
import incidents.models.channels
import uuid
from django.conf import settings
from django.db import migrations, models

# Reply templates: ordinary rows the city edits or replaces in the admin; reversing removes
# only the templates created here, by name, if nobody changed them.
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


# The radius of the works impact table is a function of the schema (not a row a flush of the
# tables would lose), replaced by incidents.publish.works_impact.rebuild(); NULL: not built.
# The works impact table follows incidents and works zones from the statement that changes
# them (incidents.publish.works_impact), once per statement over its transition tables: an
# incident inserted or moved is queued (incidents_worksimpactpending) and measured by the
# next read of the table (the pipeline only writes its id); an incident that only gains an
# earlier first report or another category has its rows copied again; a zone inserted or
# whose impact area changed is measured at once (imports are rare). Measuring is the
# predicate of the distance queries: ST_DWithin on geography, incident first. JIT off: compiling these short joins costs more than running them.
# Incident row i near zone row w: the predicate of the distance queries (geography, incident first).
_RADIUS = "incidents_works_impact_radius()"
_NEAR = f"ST_DWithin((i.location)::geography, (w.impact_area)::geography, {_RADIUS})"
# The same rows, found from an incident through the zones' plain geometry index with a lon/lat box
# that holds the radius (incidents.geo.planar_box), then measured on the spheroid: a third cheaper
# than walking the geography index. Only away from the poles and the antimeridian.
_DLAT = f"({_RADIUS} / 110000.0)"
_NEAR_PLANAR = (
    f"w.impact_area && ST_Expand(i.location, {_DLAT} / cos(radians(abs(ST_Y(i.location)) + {_DLAT})), {_DLAT}) "
    f"AND _ST_DWithin((i.location)::geography, (w.impact_area)::geography, {_RADIUS})"
)
_PLANAR_HOLDS = "abs(ST_X(i.location)) <= 179 AND abs(ST_Y(i.location)) <= 80"
_INSERT = "INSERT INTO incidents_workszoneneighbour (incident_id, works_zone_id, first_post_at, category, distance_m) "
_SELECT = (
    "SELECT i.id, w.id, i.first_post_at, i.category, ST_Distance((i.location)::geography, (w.impact_area)::geography)"
)
_MEASURED = _INSERT + _SELECT


def _measure_incidents(source: str) -> str:
    """SQL: insert the pairs of the incidents of ``source`` (alias i) with the zones near them."""
    return (
        f"{_INSERT} {_SELECT} FROM {source} JOIN incidents_workszone w ON {_NEAR_PLANAR} WHERE {_PLANAR_HOLDS} "
        f"UNION ALL {_SELECT} FROM {source} JOIN incidents_workszone w ON {_NEAR} WHERE NOT ({_PLANAR_HOLDS})"
    )


NEIGHBOURS = f"""
CREATE FUNCTION incidents_works_impact_radius() RETURNS float8 LANGUAGE sql STABLE AS 'SELECT NULL::float8';

-- Measure the incidents ids (their rows replaced): what catching up with the pending ones does.
CREATE FUNCTION incidents_works_impact_measure(ids bigint[]) RETURNS void LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    DELETE FROM incidents_workszoneneighbour WHERE incident_id = ANY(ids);
    {_measure_incidents("unnest(ids) AS m(id) JOIN incidents_incident i ON i.id = m.id")};
END $$;

CREATE FUNCTION incidents_neighbours_incident_inserted() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    INSERT INTO incidents_worksimpactpending (incident_id) SELECT id FROM inserted ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION incidents_neighbours_incident_updated() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    moved bigint[];
    copied bigint[];
BEGIN
    -- One pass over the statement's rows; most updates (totals, priority, status) stop here.
    SELECT array_agg(n.id) FILTER (WHERE NOT n.location ~= o.location),
           array_agg(n.id) FILTER (WHERE n.location ~= o.location)
    INTO moved, copied
    FROM before o JOIN after n ON n.id = o.id
    WHERE NOT n.location ~= o.location OR o.first_post_at <> n.first_post_at OR o.category <> n.category;
    IF moved IS NOT NULL THEN  -- to be measured again
        INSERT INTO incidents_worksimpactpending (incident_id) SELECT unnest(moved) ON CONFLICT DO NOTHING;
    END IF;
    IF copied IS NOT NULL THEN  -- still in place: the copies refreshed
        UPDATE incidents_workszoneneighbour r SET first_post_at = n.first_post_at, category = n.category
        FROM unnest(copied) AS c(id) JOIN after n ON n.id = c.id
        WHERE r.incident_id = n.id;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION incidents_neighbours_zone_inserted() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    {_MEASURED} FROM inserted w JOIN incidents_incident i ON {_NEAR};
    RETURN NULL;
END $$;

CREATE FUNCTION incidents_neighbours_zone_updated() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    DELETE FROM incidents_workszoneneighbour r USING before o JOIN after n ON n.id = o.id
    WHERE r.works_zone_id = n.id AND ST_AsEWKB(n.impact_area) IS DISTINCT FROM ST_AsEWKB(o.impact_area);
    {_MEASURED} FROM before o JOIN after w ON w.id = o.id JOIN incidents_incident i ON {_NEAR}
    WHERE ST_AsEWKB(w.impact_area) IS DISTINCT FROM ST_AsEWKB(o.impact_area);
    RETURN NULL;
END $$;

CREATE TRIGGER workszoneneighbour_incident_inserted AFTER INSERT ON incidents_incident
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION incidents_neighbours_incident_inserted();
CREATE TRIGGER workszoneneighbour_incident_updated AFTER UPDATE ON incidents_incident
    REFERENCING OLD TABLE AS before NEW TABLE AS after
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_neighbours_incident_updated();
CREATE TRIGGER workszoneneighbour_zone_inserted AFTER INSERT ON incidents_workszone
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION incidents_neighbours_zone_inserted();
CREATE TRIGGER workszoneneighbour_zone_updated AFTER UPDATE ON incidents_workszone
    REFERENCING OLD TABLE AS before NEW TABLE AS after
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_neighbours_zone_updated();
"""
NO_NEIGHBOURS = """
DROP TRIGGER workszoneneighbour_incident_inserted ON incidents_incident;
DROP TRIGGER workszoneneighbour_incident_updated ON incidents_incident;
DROP TRIGGER workszoneneighbour_zone_inserted ON incidents_workszone;
DROP TRIGGER workszoneneighbour_zone_updated ON incidents_workszone;
DROP FUNCTION incidents_neighbours_incident_inserted();
DROP FUNCTION incidents_neighbours_incident_updated();
DROP FUNCTION incidents_neighbours_zone_inserted();
DROP FUNCTION incidents_neighbours_zone_updated();
DROP FUNCTION incidents_works_impact_measure(bigint[]);
DROP FUNCTION incidents_works_impact_radius();
"""


def build_works_impact_table(apps, schema_editor):
    radius = float(settings.INCIDENTS_WORKS_RADIUS_M)
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION incidents_works_impact_radius() RETURNS float8 LANGUAGE sql STABLE "
        f"AS 'SELECT {radius!r}::float8'"
    )
    schema_editor.execute(f"{_MEASURED} FROM incidents_workszone w JOIN incidents_incident i ON {_NEAR}")


class Migration(migrations.Migration):

    initial = True

    replaces = [
        ('incidents', '0001_initial'),
        ('incidents', '0002_incidentchange'),
        ('incidents', '0003_reply_templates_and_replies'),
        ('incidents', '0004_default_reply_templates'),
        ('incidents', '0005_post_locate_inputs_repost'),
        ('incidents', '0006_post_declared_category'),
        ('incidents', '0007_incident_location_post'),
        ('incidents', '0008_fewer_indexes'),
        ('incidents', '0009_streetsegment_layers_retired_at'),
        ('incidents', '0010_channels'),
        ('incidents', '0011_threads_affects_recurrence'),
        ('incidents', '0012_planners'),
    ]

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='District',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(help_text='Official code, e.g. INSEE IRIS code.', max_length=32, unique=True, verbose_name='code')),
                ('name', models.CharField(max_length=255, verbose_name='name')),
                ('geom', django.contrib.gis.db.models.fields.MultiPolygonField(srid=4326, verbose_name='geometry')),
                ('properties', models.JSONField(blank=True, default=dict, verbose_name='properties')),
            ],
            options={
                'verbose_name': 'district',
                'verbose_name_plural': 'districts',
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='IncidentChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('incident_id', models.BigIntegerField(blank=True, help_text='Empty means every incident may have changed.', null=True, verbose_name='incident id')),
                ('changed_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='changed at')),
            ],
            options={
                'verbose_name': 'incident change',
                'verbose_name_plural': 'incident changes',
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='ServiceArea',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=128, unique=True, verbose_name='name')),
                ('source', models.CharField(choices=[('districts', 'Union of the districts'), ('streets', 'Extent of the loaded streets'), ('manual', 'Drawn or imported boundary')], max_length=16, verbose_name='source')),
                ('geom', django.contrib.gis.db.models.fields.MultiPolygonField(srid=4326, verbose_name='geometry')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
            ],
            options={
                'verbose_name': 'service area',
                'verbose_name_plural': 'service areas',
            },
        ),
        migrations.CreateModel(
            name='WorksImpactPending',
            fields=[
                ('incident_id', models.BigIntegerField(primary_key=True, serialize=False, verbose_name='incident id')),
            ],
            options={
                'verbose_name': 'incident to measure against works zones',
                'verbose_name_plural': 'incidents to measure against works zones',
            },
        ),
        migrations.CreateModel(
            name='Channel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=64, unique=True, validators=[django.core.validators.RegexValidator('^[a-z0-9][a-z0-9_.-]*$', "Use lower-case letters, digits, '-', '_' or '.'.")], verbose_name='name')),
                ('kind', models.CharField(choices=[('mastodon', 'Mastodon'), ('bluesky', 'Bluesky'), ('x', 'X (Twitter)')], max_length=16, verbose_name='network')),
                ('base_url', models.URLField(help_text="Mastodon: the instance (https://mastodon.social); Bluesky: an AppView or, to read mentions and reply, the account's PDS (https://bsky.social); X: https://api.x.com.", max_length=500, verbose_name='base URL')),
                ('hashtags', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=100, validators=[django.core.validators.RegexValidator('^[^\\s#]+$', "A hashtag, without '#'.")]), blank=True, default=list, help_text="Followed hashtags, without '#'.", size=None, verbose_name='hashtags')),
                ('queries', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=500), blank=True, default=list, help_text="Search queries, in the network's own syntax.", size=None, verbose_name='searches')),
                ('mentions', models.BooleanField(default=False, help_text="Read the posts that mention the city's account (needs a token).", verbose_name='mentions')),
                ('account', models.CharField(blank=True, help_text="The city's account: Bluesky handle (to log in), X username (to find its replies).", max_length=255, verbose_name='account')),
                ('token_env', models.CharField(blank=True, help_text='Name of the environment variable holding the access token (Bluesky: the app password). Secrets are never stored in the database.', max_length=128, validators=[django.core.validators.RegexValidator('^[A-Za-z_][A-Za-z0-9_]*$', 'An environment variable name, e.g. MASTODON_TOKEN.')], verbose_name='token variable')),
                ('interval_s', models.PositiveIntegerField(default=incidents.models.channels.default_interval, help_text='Seconds between two polls.', verbose_name='interval')),
                ('since', models.DateTimeField(default=incidents.models.channels.default_since, help_text='The first poll reads posts back to this time, no further.', verbose_name='since')),
                ('enabled', models.BooleanField(default=True, verbose_name='enabled')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('last_poll_at', models.DateTimeField(blank=True, null=True, verbose_name='last poll')),
                ('last_success_at', models.DateTimeField(blank=True, null=True, verbose_name='last successful poll')),
                ('next_poll_at', models.DateTimeField(blank=True, help_text='Not before this time (interval, backoff, rate limit).', null=True, verbose_name='next poll')),
                ('failures', models.PositiveIntegerField(default=0, verbose_name='failures in a row')),
                ('last_error', models.TextField(blank=True, verbose_name='last error')),
                ('last_error_at', models.DateTimeField(blank=True, null=True, verbose_name='last error at')),
                ('lag_s', models.FloatField(blank=True, help_text='Seconds between the newest post of the last poll that stored one and the end of that poll.', null=True, verbose_name='lag')),
                ('last_rejection', models.TextField(blank=True, help_text='Position, id and reason of the last item the parser refused.', verbose_name='last rejected item')),
            ],
            options={
                'verbose_name': 'channel',
                'verbose_name_plural': 'channels',
                'ordering': ['name'],
                'constraints': [models.CheckConstraint(condition=models.Q(('kind__in', ['mastodon', 'bluesky', 'x'])), name='channel_kind_known', violation_error_message='The network is mastodon, bluesky or x.'), models.CheckConstraint(condition=models.Q(('interval_s__gte', 1)), name='channel_interval_positive', violation_error_message='The interval is at least one second.'), models.CheckConstraint(condition=models.Q(('mentions', True), models.Q(('hashtags', []), _negated=True), models.Q(('queries', []), _negated=True), _connector='OR'), name='channel_listens_to_something', violation_error_message='Give at least one hashtag or search, or read the mentions.'), models.CheckConstraint(condition=models.Q(models.Q(('kind', 'x'), _negated=True), models.Q(('token_env', ''), _negated=True), _connector='OR'), name='channel_x_has_token', violation_error_message='X needs a token: name the environment variable that holds it.'), models.CheckConstraint(condition=models.Q(('mentions', False), models.Q(('token_env', ''), _negated=True), _connector='OR'), name='channel_mentions_have_token', violation_error_message="Reading mentions needs the account's token: name the environment variable that holds it."), models.CheckConstraint(condition=models.Q(models.Q(('kind', 'bluesky'), _negated=True), ('token_env', ''), models.Q(('account', ''), _negated=True), _connector='OR'), name='channel_bluesky_login_has_account', violation_error_message='Bluesky logs in with an account: give its handle with the app password.'), models.CheckConstraint(condition=models.Q(models.Q(('kind', 'x'), _negated=True), ('mentions', False), models.Q(('account', ''), _negated=True), _connector='OR'), name='channel_x_mentions_have_account', violation_error_message="X finds mentions by searching @account: give the city's username.")],
            },
        ),
        migrations.CreateModel(
            name='Incident',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('location', django.contrib.gis.db.models.fields.PointField(help_text='Representative point of the incident.', srid=4326, verbose_name='location')),
                ('category', models.CharField(choices=[('works_obstruction', 'Works obstruction'), ('pedestrian_crossing_sidewalk', 'Pedestrian crossing or sidewalk'), ('road_surface_pothole', 'Road surface or pothole'), ('lighting', 'Street lighting'), ('signage_marking', 'Signage or road marking'), ('waste_cleanliness', 'Waste or cleanliness'), ('graffiti_vandalism', 'Graffiti or vandalism'), ('vegetation', 'Vegetation'), ('drainage_flooding', 'Drainage or flooding'), ('traffic_parking', 'Traffic or parking'), ('other', 'Other')], help_text='The most frequent category of its posts (docs/taxonomy.md: related codes, ties).', max_length=32, verbose_name='category')),
                ('category_counts', models.JSONField(db_default=models.Value({}, output_field=models.JSONField()), default=dict, editable=False, help_text='Number of its posts in each category, by code; its category follows from them.', verbose_name='posts per category')),
                ('affects', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(choices=[('pedestrians', 'Pedestrians'), ('reduced_mobility', 'People with reduced mobility'), ('cyclists', 'Cyclists'), ('motor_vehicles', 'Motor vehicles'), ('public_transport', 'Public transport')], max_length=24), blank=True, db_default=models.Value([], output_field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=24), size=None)), default=list, help_text='Who its posts say the problem harms.', size=None, verbose_name='affects')),
                ('status', models.CharField(choices=[('new', 'New'), ('acknowledged', 'Acknowledged'), ('dispatched', 'Crew dispatched'), ('resolved', 'Resolved'), ('rejected', 'Rejected'), ('duplicate', 'Duplicate')], default='new', max_length=16, verbose_name='status')),
                ('segment_distance_m', models.FloatField(blank=True, help_text='Metres from the incident to its segment.', null=True, verbose_name='distance to segment')),
                ('location_accuracy_m', models.FloatField(blank=True, editable=False, help_text='Metres: how precisely its most accurately located post is placed (empty: unknown).', null=True, verbose_name='location accuracy')),
                ('first_post_at', models.DateTimeField(verbose_name='first post at')),
                ('last_post_at', models.DateTimeField(db_index=True, verbose_name='last post at')),
                ('post_count', models.PositiveIntegerField(default=0, verbose_name='posts')),
                ('engagement', models.PositiveIntegerField(default=0, help_text='Likes, reposts, replies and quotes of all its posts.', verbose_name='engagement')),
                ('priority', models.FloatField(db_index=True, default=0, help_text='Higher means act sooner.', verbose_name='priority')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('district', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='incidents', to='incidents.district', verbose_name='district')),
                ('duplicate_of', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='duplicates', to='incidents.incident', verbose_name='duplicate of')),
                ('recurrence_of', models.ForeignKey(blank=True, db_index=False, editable=False, help_text='The resolved incident, same problem at the same place, that this one reports again.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='recurrences', to='incidents.incident', verbose_name='reported again after')),
            ],
            options={
                'verbose_name': 'incident',
                'verbose_name_plural': 'incidents',
                'ordering': ['-last_post_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Post',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(help_text='Platform or feed: x, mastodon, csv, jsonl, api, open311, or a name given at ingest.', max_length=32, verbose_name='source')),
                ('external_id', models.CharField(help_text='Identifier on the source.', max_length=255, verbose_name='external id')),
                ('url', models.URLField(blank=True, help_text='Personal data: staff only.', max_length=1000, verbose_name='URL')),
                ('author_handle', models.CharField(blank=True, help_text='Personal data: staff only.', max_length=255, verbose_name='author handle')),
                ('author_id', models.CharField(blank=True, help_text='Personal data: staff only.', max_length=255, verbose_name='author id')),
                ('text', models.TextField(blank=True, verbose_name='text')),
                ('language', models.CharField(blank=True, help_text="BCP 47 code, e.g. 'fr'.", max_length=16, verbose_name='language')),
                ('media_urls', django.contrib.postgres.fields.ArrayField(base_field=models.URLField(max_length=1000), blank=True, default=list, size=None, verbose_name='media URLs')),
                ('posted_at', models.DateTimeField(db_index=True, verbose_name='posted at')),
                ('like_count', models.PositiveIntegerField(default=0, verbose_name='likes')),
                ('repost_count', models.PositiveIntegerField(default=0, verbose_name='reposts')),
                ('reply_count', models.PositiveIntegerField(default=0, verbose_name='replies')),
                ('quote_count', models.PositiveIntegerField(default=0, verbose_name='quotes')),
                ('repost_of', models.CharField(blank=True, help_text='External id of the reposted post, same source.', max_length=255, verbose_name='repost of')),
                ('quote_of', models.CharField(blank=True, help_text='External id of the quoted post, same source.', max_length=255, verbose_name='quote of')),
                ('reply_to', models.CharField(blank=True, help_text='External id of the post replied to, same source.', max_length=255, verbose_name='reply to')),
                ('reply_to_local', models.CharField(blank=True, db_default='', default='', help_text='Mastodon: id of the status replied to on the instance it was read from (in_reply_to_id).', max_length=64, verbose_name='reply to (instance id)')),
                ('local_id', models.CharField(blank=True, db_default='', default='', help_text='Mastodon: id of the status on the instance it was read from; replies name it.', max_length=64, verbose_name='instance id')),
                ('thread_root', models.CharField(blank=True, db_default='', default='', help_text='External id of the first post of its conversation (X conversation_id, Bluesky root).', max_length=255, verbose_name='conversation')),
                ('raw', models.JSONField(blank=True, default=dict, help_text='As received. Staff only.', verbose_name='raw payload')),
                ('gps_location', django.contrib.gis.db.models.fields.PointField(blank=True, help_text='Coordinates attached by the device, as received (WGS84).', null=True, spatial_index=False, srid=4326, verbose_name='GPS location')),
                ('place_name', models.CharField(blank=True, db_default='', default='', help_text='Place named by the platform.', max_length=255, verbose_name='place')),
                ('place_type', models.CharField(blank=True, db_default='', default='', help_text='X place type: poi, neighborhood, city, admin, country.', max_length=32, verbose_name='place type')),
                ('place_bbox', django.contrib.gis.db.models.fields.PolygonField(blank=True, help_text='Bounding box of the place (WGS84).', null=True, spatial_index=False, srid=4326, verbose_name='place bounding box')),
                ('declared_category', models.CharField(blank=True, choices=[('works_obstruction', 'Works obstruction'), ('pedestrian_crossing_sidewalk', 'Pedestrian crossing or sidewalk'), ('road_surface_pothole', 'Road surface or pothole'), ('lighting', 'Street lighting'), ('signage_marking', 'Signage or road marking'), ('waste_cleanliness', 'Waste or cleanliness'), ('graffiti_vandalism', 'Graffiti or vandalism'), ('vegetation', 'Vegetation'), ('drainage_flooding', 'Drainage or flooding'), ('traffic_parking', 'Traffic or parking'), ('other', 'Other')], db_default='', default='', help_text='Category the reporter chose (an Open311 service code); it decides over the classifier.', max_length=32, verbose_name='declared category')),
                ('location', django.contrib.gis.db.models.fields.PointField(blank=True, null=True, spatial_index=False, srid=4326, verbose_name='location')),
                ('location_method', models.CharField(choices=[('gps', 'GPS coordinates'), ('text', 'Street names in the text'), ('place', 'Place bounding box'), ('thread', 'The post it answers'), ('none', 'Not located')], default='none', max_length=8, verbose_name='location method')),
                ('location_accuracy_m', models.FloatField(blank=True, help_text='Estimated radius of the location error, metres.', null=True, verbose_name='location accuracy')),
                ('location_text', models.CharField(blank=True, help_text='The words or place the location came from.', max_length=500, verbose_name='matched text')),
                ('location_note', models.CharField(blank=True, db_default='', default='', help_text="Why the location is coarse or missing, e.g. 'name exists in 3 communes'.", max_length=255, verbose_name='location note')),
                ('category', models.CharField(blank=True, choices=[('works_obstruction', 'Works obstruction'), ('pedestrian_crossing_sidewalk', 'Pedestrian crossing or sidewalk'), ('road_surface_pothole', 'Road surface or pothole'), ('lighting', 'Street lighting'), ('signage_marking', 'Signage or road marking'), ('waste_cleanliness', 'Waste or cleanliness'), ('graffiti_vandalism', 'Graffiti or vandalism'), ('vegetation', 'Vegetation'), ('drainage_flooding', 'Drainage or flooding'), ('traffic_parking', 'Traffic or parking'), ('other', 'Other')], max_length=32, verbose_name='category')),
                ('category_evidence', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=200), blank=True, db_default=models.Value([], output_field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=200), size=None)), default=list, help_text='Words or rules that decided the category.', size=None, verbose_name='category evidence')),
                ('category_score', models.FloatField(blank=True, help_text='0 to 1.', null=True, verbose_name='category score')),
                ('relevance', models.FloatField(blank=True, help_text='Likelihood the post is about public space, 0 to 1.', null=True, verbose_name='relevance')),
                ('affects', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(choices=[('pedestrians', 'Pedestrians'), ('reduced_mobility', 'People with reduced mobility'), ('cyclists', 'Cyclists'), ('motor_vehicles', 'Motor vehicles'), ('public_transport', 'Public transport')], max_length=24), blank=True, db_default=models.Value([], output_field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=24), size=None)), default=list, help_text='Who the text says the problem harms.', size=None, verbose_name='affects')),
                ('state', models.CharField(choices=[('pending', 'Waiting for the pipeline'), ('located', 'Located'), ('unlocated', 'Could not be located'), ('out_of_area', 'Outside the service area'), ('irrelevant', 'Not about public space')], default='pending', max_length=16, verbose_name='state')),
                ('segment_distance_m', models.FloatField(blank=True, help_text='Metres from the location to the segment.', null=True, verbose_name='distance to segment')),
                ('received_at', models.DateTimeField(auto_now_add=True, verbose_name='received at')),
                ('processed_at', models.DateTimeField(blank=True, null=True, verbose_name='processed at')),
                ('incident', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='posts', to='incidents.incident', verbose_name='incident')),
                ('thread_parent', models.ForeignKey(blank=True, db_index=False, editable=False, help_text='The post of its conversation whose place and incident it took.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='incidents.post', verbose_name='located by the post it answers')),
            ],
            options={
                'verbose_name': 'post',
                'verbose_name_plural': 'posts',
                'ordering': ['-posted_at', 'id'],
            },
        ),
        migrations.AddField(
            model_name='incident',
            name='location_post',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, help_text="The post whose point stands for the incident's.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='incidents.post', verbose_name='located by'),
        ),
        migrations.CreateModel(
            name='ReplyTemplate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=128, verbose_name='name')),
                ('language', models.CharField(choices=[('fr', 'French'), ('en', 'English')], default='fr', max_length=8, verbose_name='language')),
                ('body', models.TextField(help_text='Text of the reply. Placeholders: {incident}, {category}, {status}, {street}.', verbose_name='body')),
                ('is_active', models.BooleanField(default=True, help_text='Offered to operators.', verbose_name='active')),
                ('position', models.PositiveSmallIntegerField(default=0, help_text='Lower comes first.', verbose_name='position')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
            ],
            options={
                'verbose_name': 'reply template',
                'verbose_name_plural': 'reply templates',
                'ordering': ['position', 'name', 'language'],
                'constraints': [models.UniqueConstraint(fields=('name', 'language'), name='replytemplate_unique_name_language')],
            },
        ),
        migrations.CreateModel(
            name='Repost',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(help_text='Same source as the original post.', max_length=32, verbose_name='source')),
                ('external_id', models.CharField(help_text='Identifier of the repost itself.', max_length=255, verbose_name='external id')),
                ('original_external_id', models.CharField(help_text='External id of the reposted post, same source.', max_length=255, verbose_name='original external id')),
                ('author_handle', models.CharField(blank=True, help_text='Personal data: staff only.', max_length=255, verbose_name='author handle')),
                ('author_id', models.CharField(blank=True, help_text='Personal data: staff only.', max_length=255, verbose_name='author id')),
                ('posted_at', models.DateTimeField(verbose_name='posted at')),
                ('received_at', models.DateTimeField(auto_now_add=True, verbose_name='received at')),
            ],
            options={
                'verbose_name': 'repost',
                'verbose_name_plural': 'reposts',
                'ordering': ['-posted_at', 'id'],
                'indexes': [models.Index(fields=['source', 'original_external_id'], name='repost_original_idx')],
                'constraints': [models.UniqueConstraint(fields=('source', 'external_id'), name='repost_unique_source_external_id'), models.CheckConstraint(condition=models.Q(('external_id', models.F('original_external_id')), _negated=True), name='repost_not_of_itself')],
            },
        ),
        migrations.CreateModel(
            name='StreetSegment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(help_text="Dataset the segment comes from, e.g. 'toulouse' or 'osm'.", max_length=64, verbose_name='source')),
                ('source_id', models.CharField(help_text='Identifier in the source dataset.', max_length=128, verbose_name='source id')),
                ('name', models.CharField(help_text='Official name as published by the source.', max_length=255, verbose_name='name')),
                ('name_normalized', models.CharField(db_index=True, help_text='Comparable key of the name (lower case, no accents, canonical street type).', max_length=255, verbose_name='normalized name')),
                ('street_id', models.CharField(blank=True, db_index=True, help_text="Identifier of the whole street, shared by its segments (Toulouse 'codsti').", max_length=64, verbose_name='street id')),
                ('commune', models.CharField(blank=True, max_length=128, verbose_name='commune')),
                ('insee_code', models.CharField(blank=True, help_text='Commune INSEE code.', max_length=5, verbose_name='INSEE code')),
                ('geom', django.contrib.gis.db.models.fields.MultiLineStringField(srid=4326, verbose_name='geometry')),
                ('length_m', models.FloatField(help_text='Length in metres, measured on the spheroid.', verbose_name='length')),
                ('properties', models.JSONField(blank=True, default=dict, help_text='Source attributes kept as published.', verbose_name='properties')),
                ('layers', models.JSONField(blank=True, default=dict, help_text='What each layer of the source listing it publishes.', verbose_name='layers')),
                ('retired_at', models.DateTimeField(blank=True, help_text='When a newer full import of its source (or of every layer that listed it) no longer listed the segment. Retired segments are kept for history: posts keep their links to them, new posts are not linked to them. Empty while the source lists it.', null=True, verbose_name='retired at')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
            ],
            options={
                'verbose_name': 'street segment',
                'verbose_name_plural': 'street segments',
                'ordering': ['name', 'id'],
                'indexes': [django.contrib.postgres.indexes.GistIndex(incidents.geo.Geography('geom'), name='streetsegment_geog_gist')],
                'constraints': [models.UniqueConstraint(fields=('source', 'source_id'), name='streetsegment_unique_source_id'), models.CheckConstraint(condition=models.Q(('length_m__gte', 0)), name='streetsegment_length_non_negative')],
            },
        ),
        migrations.AddField(
            model_name='post',
            name='segment',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='posts', to='incidents.streetsegment', verbose_name='street segment'),
        ),
        migrations.AddField(
            model_name='incident',
            name='segment',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='incidents', to='incidents.streetsegment', verbose_name='street segment'),
        ),
        migrations.CreateModel(
            name='WorksZone',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(help_text="Feed the zone comes from, e.g. 'toulouse' or 'wzdx'.", max_length=64, verbose_name='source')),
                ('source_id', models.CharField(help_text='Identifier in the source feed.', max_length=128, verbose_name='source id')),
                ('reference', models.CharField(blank=True, help_text='Public reference of the works permit.', max_length=128, verbose_name='reference')),
                ('title', models.CharField(blank=True, max_length=500, verbose_name='title')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('nature', models.CharField(blank=True, help_text='Kind of works.', max_length=500, verbose_name='nature')),
                ('road_names', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=255), blank=True, default=list, size=None, verbose_name='road names')),
                ('commune', models.CharField(blank=True, max_length=128, verbose_name='commune')),
                ('declarant', models.CharField(blank=True, help_text='Owner of the works.', max_length=255, verbose_name='declarant')),
                ('contractor', models.CharField(blank=True, max_length=255, verbose_name='contractor')),
                ('contact', models.EmailField(blank=True, db_default='', help_text='E-mail address of the works site (crew or contractor), told about incidents from the triage.', max_length=254, verbose_name='contact')),
                ('starts_at', models.DateTimeField(db_index=True, verbose_name='starts at')),
                ('ends_at', models.DateTimeField(blank=True, help_text='Announced end; empty if open.', null=True, verbose_name='ends at')),
                ('withdrawn_at', models.DateTimeField(blank=True, help_text='When the zone vanished from a full snapshot of its feed before its announced end.', null=True, verbose_name='withdrawn at')),
                ('geom', django.contrib.gis.db.models.fields.GeometryField(help_text='Geometry as published (point, line, polygon).', srid=4326, verbose_name='geometry')),
                ('impact_area', django.contrib.gis.db.models.fields.MultiPolygonField(help_text='The geometry buffered by INCIDENTS_WORKS_IMPACT_BUFFER_M metres, computed in PostGIS.', srid=4326, verbose_name='impact area')),
                ('impact_vehicle', models.BooleanField(default=False, verbose_name='vehicle lanes affected')),
                ('impact_pedestrian', models.BooleanField(default=False, verbose_name='pavement or pedestrians affected')),
                ('impact_cycle', models.BooleanField(default=False, verbose_name='cycle lanes affected')),
                ('impact_parking', models.BooleanField(default=False, verbose_name='parking affected')),
                ('impact_closure', models.BooleanField(default=False, verbose_name='full closure')),
                ('impact_text', models.TextField(blank=True, help_text='Impact as published, unparsed.', verbose_name='impact text')),
                ('first_seen_at', models.DateTimeField(blank=True, null=True, verbose_name='first seen at')),
                ('last_seen_at', models.DateTimeField(blank=True, null=True, verbose_name='last seen at')),
                ('properties', models.JSONField(blank=True, default=dict, help_text='Source attributes kept as published.', verbose_name='properties')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
            ],
            options={
                'verbose_name': 'works zone',
                'verbose_name_plural': 'works zones',
                'ordering': ['-starts_at', 'id'],
                'indexes': [django.contrib.postgres.indexes.GistIndex(incidents.geo.Geography('impact_area'), name='workszone_impact_geog_gist'), models.Index(fields=['ends_at'], name='workszone_ends_at_idx')],
                'constraints': [models.UniqueConstraint(fields=('source', 'source_id'), name='workszone_unique_source_id'), models.CheckConstraint(condition=models.Q(('ends_at__isnull', True), ('ends_at__gte', models.F('starts_at')), _connector='OR'), name='workszone_ends_after_start'), models.CheckConstraint(condition=models.Q(('last_seen_at__isnull', True), models.Q(('first_seen_at__isnull', False), ('last_seen_at__gte', models.F('first_seen_at'))), _connector='OR'), name='workszone_seen_in_order')],
            },
        ),
        migrations.CreateModel(
            name='Subscription',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('area', django.contrib.gis.db.models.fields.PolygonField(blank=True, help_text='A drawn area (WGS84 polygon).', null=True, srid=4326, verbose_name='area')),
                ('categories', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(choices=[('works_obstruction', 'Works obstruction'), ('pedestrian_crossing_sidewalk', 'Pedestrian crossing or sidewalk'), ('road_surface_pothole', 'Road surface or pothole'), ('lighting', 'Street lighting'), ('signage_marking', 'Signage or road marking'), ('waste_cleanliness', 'Waste or cleanliness'), ('graffiti_vandalism', 'Graffiti or vandalism'), ('vegetation', 'Vegetation'), ('drainage_flooding', 'Drainage or flooding'), ('traffic_parking', 'Traffic or parking'), ('other', 'Other')], max_length=32), blank=True, default=list, help_text='Only these categories; empty: all.', size=None, verbose_name='categories')),
                ('affected', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(choices=[('pedestrians', 'Pedestrians'), ('reduced_mobility', 'People with reduced mobility'), ('cyclists', 'Cyclists'), ('motor_vehicles', 'Motor vehicles'), ('public_transport', 'Public transport')], max_length=24), blank=True, default=list, help_text='Only incidents whose posts say they harm these people; empty: all incidents.', size=None, verbose_name='who is affected')),
                ('email', models.BooleanField(default=True, help_text="Send e-mails to the owner's address.", verbose_name='e-mail')),
                ('email_mode', models.CharField(choices=[('immediate', 'One e-mail per incident'), ('daily', 'A daily digest')], default='immediate', max_length=16, verbose_name='e-mail frequency')),
                ('webhook_url', models.URLField(blank=True, help_text='Signed POST of each incident event.', max_length=1000, verbose_name='webhook URL')),
                ('webhook_secret', models.CharField(blank=True, help_text='Key of the HMAC-SHA256 signature.', max_length=128, verbose_name='webhook secret')),
                ('language', models.CharField(choices=[('fr', 'French'), ('en', 'English')], default='fr', max_length=8, verbose_name='language')),
                ('paused_at', models.DateTimeField(blank=True, help_text='Nothing is delivered while paused.', null=True, verbose_name='paused at')),
                ('pause_reason', models.TextField(blank=True, verbose_name='why paused')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('district', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='subscriptions', to='incidents.district', verbose_name='district')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='subscriptions', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
                ('works_zone', models.ForeignKey(blank=True, help_text='Incidents reported near this works zone while it runs.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='subscriptions', to='incidents.workszone', verbose_name='works zone')),
            ],
            options={
                'verbose_name': 'subscription',
                'verbose_name_plural': 'subscriptions',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='PostWorksZone',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('distance_m', models.FloatField(help_text="Metres from the post to the zone's impact area.", verbose_name='distance')),
                ('post', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='works_links', to='incidents.post')),
                ('works_zone', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='post_links', to='incidents.workszone')),
            ],
            options={
                'verbose_name': 'post works zone link',
                'verbose_name_plural': 'post works zone links',
            },
        ),
        migrations.AddField(
            model_name='post',
            name='works_zones',
            field=models.ManyToManyField(blank=True, related_name='posts', through='incidents.PostWorksZone', to='incidents.workszone'),
        ),
        migrations.CreateModel(
            name='IncidentWorksZone',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('distance_m', models.FloatField(help_text="Metres from the incident to the zone's impact area.", verbose_name='distance')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='works_links', to='incidents.incident')),
                ('works_zone', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='incident_links', to='incidents.workszone')),
            ],
            options={
                'verbose_name': 'incident works zone link',
                'verbose_name_plural': 'incident works zone links',
            },
        ),
        migrations.AddField(
            model_name='incident',
            name='works_zones',
            field=models.ManyToManyField(blank=True, related_name='incidents', through='incidents.IncidentWorksZone', to='incidents.workszone'),
        ),
        migrations.CreateModel(
            name='WorksZoneNeighbour',
            fields=[
                ('pk', models.CompositePrimaryKey('incident_id', 'works_zone_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('first_post_at', models.DateTimeField(help_text="The incident's first report, copied.", verbose_name='first post at')),
                ('category', models.CharField(choices=[('works_obstruction', 'Works obstruction'), ('pedestrian_crossing_sidewalk', 'Pedestrian crossing or sidewalk'), ('road_surface_pothole', 'Road surface or pothole'), ('lighting', 'Street lighting'), ('signage_marking', 'Signage or road marking'), ('waste_cleanliness', 'Waste or cleanliness'), ('graffiti_vandalism', 'Graffiti or vandalism'), ('vegetation', 'Vegetation'), ('drainage_flooding', 'Drainage or flooding'), ('traffic_parking', 'Traffic or parking'), ('other', 'Other')], max_length=32, verbose_name='category')),
                ('distance_m', models.FloatField(help_text="Metres from the incident to the zone's impact area.", verbose_name='distance')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='incidents.incident')),
                ('works_zone', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='incidents.workszone')),
            ],
            options={
                'verbose_name': 'incident near a works zone',
                'verbose_name_plural': 'incidents near works zones',
            },
        ),
        migrations.CreateModel(
            name='ChannelCursor',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('stream', models.TextField(help_text='tag:NAME, search:QUERY or mentions.', verbose_name='stream')),
                ('state', models.JSONField(blank=True, default=dict, help_text='The newest id or time stored, and a walk in progress.', verbose_name='state')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('channel', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='cursors', to='incidents.channel', verbose_name='channel')),
            ],
            options={
                'verbose_name': 'channel cursor',
                'verbose_name_plural': 'channel cursors',
                'ordering': ['channel', 'stream'],
                'constraints': [models.UniqueConstraint(fields=('channel', 'stream'), name='channelcursor_unique_stream')],
            },
        ),
        migrations.CreateModel(
            name='IncidentEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_status', models.CharField(blank=True, choices=[('new', 'New'), ('acknowledged', 'Acknowledged'), ('dispatched', 'Crew dispatched'), ('resolved', 'Resolved'), ('rejected', 'Rejected'), ('duplicate', 'Duplicate')], max_length=16, verbose_name='from')),
                ('to_status', models.CharField(choices=[('new', 'New'), ('acknowledged', 'Acknowledged'), ('dispatched', 'Crew dispatched'), ('resolved', 'Resolved'), ('rejected', 'Rejected'), ('duplicate', 'Duplicate')], max_length=16, verbose_name='to')),
                ('note', models.TextField(blank=True, verbose_name='note')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='incident_events', to=settings.AUTH_USER_MODEL, verbose_name='actor')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='incidents.incident')),
            ],
            options={
                'verbose_name': 'incident event',
                'verbose_name_plural': 'incident events',
                'ordering': ['created_at', 'id'],
                'indexes': [models.Index(fields=['incident', 'created_at'], name='incidentevent_incident_at_idx')],
            },
        ),
        migrations.CreateModel(
            name='ChannelPost',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('remote_id', models.CharField(blank=True, help_text="The status id on the channel's instance.", max_length=255, verbose_name='id on the server')),
                ('seen_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='first seen')),
                ('channel', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='seen', to='incidents.channel', verbose_name='channel')),
                ('post', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='seen', to='incidents.post', verbose_name='post')),
            ],
            options={
                'verbose_name': 'post seen by a channel',
                'verbose_name_plural': 'posts seen by channels',
                'indexes': [models.Index(fields=['channel', 'seen_at'], name='channelpost_channel_seen_idx')],
                'constraints': [models.UniqueConstraint(fields=('channel', 'post'), name='channelpost_unique')],
            },
        ),
        migrations.CreateModel(
            name='IncidentReply',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('language', models.CharField(choices=[('fr', 'French'), ('en', 'English')], max_length=8, verbose_name='language')),
                ('text', models.TextField(verbose_name='text')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('backend', models.CharField(help_text='Dotted path of the reply backend that handled it.', max_length=255, verbose_name='backend')),
                ('state', models.CharField(choices=[('recorded', 'Recorded (not sent)'), ('queued', 'Queued for the network'), ('sent', 'Sent'), ('failed', 'Sending failed')], default='recorded', max_length=16, verbose_name='state')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                ('external_id', models.CharField(blank=True, help_text='Identifier of the reply on the platform.', max_length=255, verbose_name='external id')),
                ('error', models.TextField(blank=True, help_text='Why sending failed (or why the last attempt did).', verbose_name='error')),
                ('url', models.URLField(blank=True, help_text='Link to the published reply.', max_length=1000, verbose_name='published reply')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='next attempt')),
                ('delivery_key', models.UUIDField(default=uuid.uuid4, editable=False, help_text='Sent as the Idempotency-Key (Mastodon) and the record key (Bluesky): the network keeps one copy.', unique=True, verbose_name='delivery key')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='incident_replies', to=settings.AUTH_USER_MODEL, verbose_name='actor')),
                ('channel', models.ForeignKey(blank=True, help_text='The channel that delivers it on the network the post came from.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='replies', to='incidents.channel', verbose_name='channel')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='replies', to='incidents.incident', verbose_name='incident')),
                ('in_reply_to', models.ForeignKey(blank=True, help_text="The post answered (the incident's first post).", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='replies', to='incidents.post', verbose_name='in reply to')),
                ('template', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='replies', to='incidents.replytemplate', verbose_name='template')),
            ],
            options={
                'verbose_name': 'incident reply',
                'verbose_name_plural': 'incident replies',
                'ordering': ['created_at', 'id'],
                'indexes': [models.Index(fields=['incident', 'created_at'], name='incidentreply_incident_at_idx'), models.Index(condition=models.Q(('state', 'queued')), fields=['next_attempt_at'], name='incidentreply_outbox_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('state', 'sent'), _negated=True), ('sent_at__isnull', False), _connector='OR'), name='incidentreply_sent_has_time'), models.CheckConstraint(condition=models.Q(('text', ''), _negated=True), name='incidentreply_text_not_empty'), models.CheckConstraint(condition=models.Q(models.Q(('state', 'queued'), _negated=True), models.Q(('channel__isnull', False), ('next_attempt_at__isnull', False)), _connector='OR'), name='incidentreply_queued_has_channel_and_time')],
            },
        ),
        migrations.CreateModel(
            name='SubscriptionDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('delivery_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='delivery id')),
                ('event', models.CharField(choices=[('incident.created', 'New incident'), ('incident.updated', 'Incident updated')], max_length=32, verbose_name='event')),
                ('channel', models.CharField(choices=[('email', 'E-mail'), ('digest', 'Daily digest'), ('webhook', 'Webhook')], max_length=16, verbose_name='channel')),
                ('state', models.CharField(choices=[('pending', 'Waiting'), ('sent', 'Sent'), ('failed', 'Given up')], default='pending', max_length=16, verbose_name='state')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='next attempt at')),
                ('attempts', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                ('body', models.TextField(blank=True, help_text='What was sent, fixed at the first attempt.', verbose_name='body')),
                ('last_error', models.TextField(blank=True, verbose_name='last error')),
                ('incident', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='incidents.incident')),
                ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='incidents.subscription')),
            ],
            options={
                'verbose_name': 'subscription delivery',
                'verbose_name_plural': 'subscription deliveries',
                'ordering': ['id'],
                'indexes': [models.Index(condition=models.Q(('state', 'pending')), fields=['next_attempt_at'], name='subscriptiondelivery_due'), models.Index(fields=['subscription', 'incident', 'channel', 'id'], name='subscriptiondelivery_order')],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('state', 'sent'), _negated=True), ('sent_at__isnull', False), _connector='OR'), name='subscriptiondelivery_sent_has_time')],
            },
        ),
        migrations.CreateModel(
            name='WorksNotification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('contact', models.EmailField(help_text='Where it was sent.', max_length=254, verbose_name='contact')),
                ('subject', models.CharField(max_length=255, verbose_name='subject')),
                ('text', models.TextField(verbose_name='text')),
                ('state', models.CharField(choices=[('recorded', 'Recorded (not sent)'), ('queued', 'Queued for the network'), ('sent', 'Sent'), ('failed', 'Sending failed')], default='recorded', max_length=16, verbose_name='state')),
                ('error', models.TextField(blank=True, help_text='Why sending failed.', verbose_name='error')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='works_notifications', to=settings.AUTH_USER_MODEL, verbose_name='actor')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='works_notifications', to='incidents.incident', verbose_name='incident')),
                ('works_zone', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='notifications', to='incidents.workszone', verbose_name='works zone')),
            ],
            options={
                'verbose_name': 'works notification',
                'verbose_name_plural': 'works notifications',
                'ordering': ['created_at', 'id'],
                'indexes': [models.Index(fields=['incident', 'created_at'], name='worksnotification_incident_at')],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('state', 'sent'), _negated=True), ('sent_at__isnull', False), _connector='OR'), name='worksnotification_sent_has_time')],
            },
        ),
        migrations.AddConstraint(
            model_name='subscription',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('district__isnull', True), ('works_zone__isnull', True)), models.Q(('area__isnull', True), ('works_zone__isnull', True)), models.Q(('area__isnull', True), ('district__isnull', True)), _connector='OR'), name='subscription_one_place'),
        ),
        migrations.AddConstraint(
            model_name='subscription',
            constraint=models.CheckConstraint(condition=models.Q(('email', True), models.Q(('webhook_url', ''), _negated=True), _connector='OR'), name='subscription_delivers_somewhere'),
        ),
        migrations.AddConstraint(
            model_name='subscription',
            constraint=models.CheckConstraint(condition=models.Q(('webhook_url', ''), models.Q(('webhook_secret', ''), _negated=True), _connector='OR'), name='subscription_webhook_secret'),
        ),
        migrations.AddConstraint(
            model_name='postworkszone',
            constraint=models.UniqueConstraint(fields=('post', 'works_zone'), name='postworkszone_unique'),
        ),
        migrations.AddConstraint(
            model_name='postworkszone',
            constraint=models.CheckConstraint(condition=models.Q(('distance_m__gte', 0)), name='postworkszone_distance_non_negative'),
        ),
        migrations.AddIndex(
            model_name='post',
            index=django.contrib.postgres.indexes.GistIndex(incidents.geo.Geography('location'), name='post_location_geog_gist'),
        ),
        migrations.AddIndex(
            model_name='post',
            index=models.Index(fields=['incident', 'posted_at'], name='post_incident_posted_idx'),
        ),
        migrations.AddIndex(
            model_name='post',
            index=models.Index(condition=models.Q(('state', 'pending')), fields=['posted_at', 'id'], name='post_pending_idx'),
        ),
        migrations.AddIndex(
            model_name='post',
            index=models.Index(condition=models.Q(('local_id', ''), _negated=True), fields=['source', 'local_id'], name='post_local_id_idx'),
        ),
        migrations.AddIndex(
            model_name='post',
            index=models.Index(condition=models.Q(models.Q(('reply_to', ''), _negated=True), ('location_method__in', ['none', 'thread'])), fields=['source', 'reply_to'], name='post_reply_to_open_idx'),
        ),
        migrations.AddIndex(
            model_name='post',
            index=models.Index(condition=models.Q(models.Q(('quote_of', ''), _negated=True), ('location_method__in', ['none', 'thread'])), fields=['source', 'quote_of'], name='post_quote_of_open_idx'),
        ),
        migrations.AddIndex(
            model_name='post',
            index=models.Index(condition=models.Q(models.Q(('reply_to_local', ''), _negated=True), ('location_method__in', ['none', 'thread'])), fields=['source', 'reply_to_local'], name='post_reply_to_local_open_idx'),
        ),
        migrations.AddIndex(
            model_name='post',
            index=models.Index(condition=models.Q(models.Q(('thread_root', ''), _negated=True), ('location_method__in', ['none', 'thread'])), fields=['source', 'thread_root'], name='post_thread_root_open_idx'),
        ),
        migrations.AddConstraint(
            model_name='post',
            constraint=models.UniqueConstraint(fields=('source', 'external_id'), name='post_unique_source_external_id'),
        ),
        migrations.AddConstraint(
            model_name='post',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('state', 'located'), _negated=True), ('location__isnull', False), _connector='OR'), name='post_located_has_location'),
        ),
        migrations.AddConstraint(
            model_name='post',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('location__isnull', True), ('location_method', 'none')), models.Q(models.Q(('location_method', 'none'), _negated=True), ('location__isnull', False)), _connector='OR'), name='post_location_method_matches_location'),
        ),
        migrations.AddConstraint(
            model_name='post',
            constraint=models.CheckConstraint(condition=models.Q(('location_accuracy_m__isnull', True), ('location_accuracy_m__gte', 0), _connector='OR'), name='post_accuracy_non_negative'),
        ),
        migrations.AddConstraint(
            model_name='post',
            constraint=models.CheckConstraint(condition=models.Q(('relevance__isnull', True), models.Q(('relevance__gte', 0), ('relevance__lte', 1)), _connector='OR'), name='post_relevance_0_1'),
        ),
        migrations.AddConstraint(
            model_name='post',
            constraint=models.CheckConstraint(condition=models.Q(('category_score__isnull', True), models.Q(('category_score__gte', 0), ('category_score__lte', 1)), _connector='OR'), name='post_category_score_0_1'),
        ),
        migrations.AddConstraint(
            model_name='post',
            constraint=models.CheckConstraint(condition=models.Q(('segment_distance_m__isnull', True), ('segment_distance_m__gte', 0), _connector='OR'), name='post_segment_distance_non_negative'),
        ),
        migrations.AddConstraint(
            model_name='post',
            constraint=models.CheckConstraint(condition=models.Q(('thread_parent__isnull', True), ('location_method', 'thread'), _connector='OR'), name='post_thread_parent_means_thread'),
        ),
        migrations.AddConstraint(
            model_name='incidentworkszone',
            constraint=models.UniqueConstraint(fields=('incident', 'works_zone'), name='incidentworkszone_unique'),
        ),
        migrations.AddConstraint(
            model_name='incidentworkszone',
            constraint=models.CheckConstraint(condition=models.Q(('distance_m__gte', 0)), name='incidentworkszone_distance_non_negative'),
        ),
        migrations.AddIndex(
            model_name='incident',
            index=django.contrib.postgres.indexes.GistIndex(incidents.geo.Geography('location'), name='incident_location_geog_gist'),
        ),
        migrations.AddIndex(
            model_name='incident',
            index=models.Index(fields=['status', '-priority'], name='incident_status_priority_idx'),
        ),
        migrations.AddIndex(
            model_name='incident',
            index=models.Index(fields=['category'], name='incident_category_idx'),
        ),
        migrations.AddIndex(
            model_name='incident',
            index=models.Index(condition=models.Q(('recurrence_of__isnull', False)), fields=['recurrence_of'], name='incident_recurrence_idx'),
        ),
        migrations.AddConstraint(
            model_name='incident',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('duplicate_of__isnull', False), ('status', 'duplicate')), models.Q(models.Q(('status', 'duplicate'), _negated=True), ('duplicate_of__isnull', True)), _connector='OR'), name='incident_duplicate_has_original'),
        ),
        migrations.AddConstraint(
            model_name='incident',
            constraint=models.CheckConstraint(condition=models.Q(('duplicate_of', models.F('id')), _negated=True), name='incident_not_duplicate_of_itself'),
        ),
        migrations.AddConstraint(
            model_name='incident',
            constraint=models.CheckConstraint(condition=models.Q(('recurrence_of', models.F('id')), _negated=True), name='incident_not_recurrence_of_itself'),
        ),
        migrations.AddConstraint(
            model_name='incident',
            constraint=models.CheckConstraint(condition=models.Q(('last_post_at__gte', models.F('first_post_at'))), name='incident_posts_in_order'),
        ),
        migrations.AddConstraint(
            model_name='incident',
            constraint=models.CheckConstraint(condition=models.Q(('segment_distance_m__isnull', True), ('segment_distance_m__gte', 0), _connector='OR'), name='incident_segment_distance_non_negative'),
        ),
        migrations.AddConstraint(
            model_name='incident',
            constraint=models.CheckConstraint(condition=models.Q(('location_accuracy_m__isnull', True), ('location_accuracy_m__gte', 0), _connector='OR'), name='incident_location_accuracy_non_negative'),
        ),
        migrations.AddIndex(
            model_name='workszoneneighbour',
            index=models.Index(fields=['works_zone', 'first_post_at'], include=('category', 'distance_m', 'incident'), name='workszoneneighbour_zone_first'),
        ),
        migrations.AddConstraint(
            model_name='workszoneneighbour',
            constraint=models.CheckConstraint(condition=models.Q(('distance_m__gte', 0)), name='workszoneneighbour_distance_non_negative'),
        ),
        # A few reply templates in French and English, so operators can answer from day one.
        migrations.RunPython(create_defaults, remove_defaults),
        migrations.RunSQL(NEIGHBOURS, NO_NEIGHBOURS),
        # Built for the radius of the works links (`manage.py rebuild_works_impact` after a change).
        migrations.RunPython(build_works_impact_table, migrations.RunPython.noop),
    ]
