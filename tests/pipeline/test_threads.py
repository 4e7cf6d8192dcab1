"""Replies with no place of their own take the place and incident of the post they answer, in any order."""

from __future__ import annotations

import itertools
import json

import pytest

from incidents.classify.lexicon import classify
from incidents.models import Incident, LocationMethod, Post, PostState
from incidents.pipeline.ingest import ingest
from incidents.services.incidents import change_incident_status
from incidents.sources import mastodon, x
from tests.conftest import CAPITOLE, offset, paris
from tests.pipeline.conftest import post

pytestmark = pytest.mark.django_db

POTHOLE = "Énorme nid de poule sur la chaussée, attention en vélo"
LIGHT = "Lampadaire en panne, plus d'éclairage le soir"


def get(external_id: str) -> Post:
    return Post.objects.select_related("incident", "thread_parent").get(external_id=external_id)


def conversation() -> dict[str, dict]:
    """A located report, its author's next post, a follow-up reply, a reply to the reply, chit-chat, and
    banter passed through."""
    return {
        "report": post(POTHOLE, CAPITOLE, paris(2014, 9, 8, 9), id="report", author_id="u1"),
        "more": post(
            "Photo prise ce matin, ça dure depuis 3 semaines",
            None,
            paris(2014, 9, 8, 9, 5),
            id="more",
            author_id="u1",
            reply_to="report",
            reply_to_author="u1",
        ),
        "still": post("toujours pas réparé ce matin 😡", None, paris(2014, 9, 12, 8), id="still", reply_to="report"),
        "same": post("pareil pour moi, j'ai failli tomber", None, paris(2014, 9, 12, 9), id="same", reply_to="still"),
        "chat": post("haha bonne soirée à tous", None, paris(2014, 9, 12, 20), id="chat", reply_to="report"),
        "question": post("mdr qui sait à qui écrire ?", None, paris(2014, 9, 9, 10), id="question", reply_to="report"),
        "fixed": post("C'est réparé, merci !", None, paris(2014, 9, 20, 18), id="fixed", reply_to="question"),
    }


def mastodon_cross_instance() -> dict[str, dict]:
    """Statuses of clara (piaille.fr) and paul's reply to her report as mamot.fr shows it.

    The reply's ``in_reply_to_id`` and ``in_reply_to_account_id`` are mamot.fr's ids: only
    the mention's profile URL names clara; her report is her last one before the reply.
    """

    def status(uri, local_id, text, at, account, **fields):
        content = f"<p>{text}</p>"
        return {"id": local_id, "uri": uri, "created_at": at, "content": content, "visibility": "public",
                "language": "fr", "account": account, **fields}  # fmt: skip

    clara = {"id": "7", "acct": "clara", "url": "https://piaille.fr/@clara"}
    paul = {"id": "31", "acct": "paul", "url": "https://mamot.fr/@paul"}
    mention = '<span class="h-card"><a href="https://piaille.fr/@clara" class="u-url mention">@clara</a></span>'
    statuses = {
        "older": status("https://piaille.fr/users/clara/statuses/0", "112100",
                        f"{LIGHT} rue d'Alsace-Lorraine", "2014-09-01T08:00:00Z", clara),
        "report": status("https://piaille.fr/users/clara/statuses/1", "112200",
                         f"{POTHOLE} rue de Metz", "2014-09-08T08:00:00Z", clara),
        "later": status("https://piaille.fr/users/clara/statuses/2", "112300",
                        f"{LIGHT} rue de Rémusat", "2014-09-09T08:00:00Z", clara),
        "reply": status("https://mamot.fr/users/paul/statuses/9", "556677",
                        f"{mention} toujours pas réparé ce matin", "2014-09-08T18:00:00Z", paul,
                        in_reply_to_id="998877", in_reply_to_account_id="4242",
                        mentions=[{"id": "4242", "acct": "clara@piaille.fr", "url": "https://piaille.fr/@clara"}]),
    }  # fmt: skip
    return statuses


def outcome() -> dict[str, tuple]:
    """What became of each post, without database ids: state, method, source, incident members."""
    members: dict[int, frozenset[str]] = {}
    for incident_id, external_id in Post.objects.exclude(incident=None).values_list("incident_id", "external_id"):
        members[incident_id] = members.get(incident_id, frozenset()) | {external_id}
    return {
        p.external_id: (
            p.state,
            p.location_method,
            p.thread_parent.external_id if p.thread_parent else None,
            p.category,
            p.location.wkt if p.location else None,
            members.get(p.incident_id),
        )
        for p in Post.objects.select_related("thread_parent")
    }


class TestReplies:
    def test_a_reply_with_no_place_takes_its_parents_place_and_incident(self, push):
        posts = conversation()
        push(posts["report"])
        push(posts["still"])
        report, still = get("report"), get("still")
        assert still.state == PostState.LOCATED
        assert still.location_method == LocationMethod.THREAD
        assert still.thread_parent == report
        assert still.incident == report.incident
        assert still.location == report.location
        assert still.location_accuracy_m == report.location_accuracy_m
        assert still.segment_id == report.segment_id
        assert still.category == report.category == "road_surface_pothole"
        assert report.incident.post_count == 2
        assert report.incident.last_post_at == paris(2014, 9, 12, 8)

    def test_a_reply_stored_before_its_parent_waits_then_joins_it(self, push):
        posts = conversation()
        push(posts["still"])
        waiting = get("still")
        assert (waiting.state, waiting.incident) == (PostState.UNLOCATED, None)
        report = push(posts["report"])
        assert report.processed.threaded == 1
        assert get("still").incident == get("report").incident
        assert get("report").incident.post_count == 2

    def test_chit_chat_in_a_conversation_stays_out(self, push):
        posts = conversation()
        push(posts["report"], posts["chat"])
        assert get("chat").state == PostState.IRRELEVANT
        assert get("chat").incident is None
        assert get("report").incident.post_count == 1

    def test_a_reply_with_a_place_of_its_own_keeps_it(self, push):
        push(post(POTHOLE, CAPITOLE, id="report"))
        push(post(LIGHT, offset(CAPITOLE, east_m=600), id="elsewhere", reply_to="report"))
        elsewhere = get("elsewhere")
        assert elsewhere.location_method == LocationMethod.GPS
        assert elsewhere.thread_parent is None
        assert elsewhere.incident != get("report").incident

    def test_a_reply_naming_another_problem_keeps_its_category(self, push):
        push(post(POTHOLE, CAPITOLE, id="report"))
        push(post("et le lampadaire d'à côté est en panne depuis une semaine", None, id="light", reply_to="report"))
        light = get("light")
        assert light.location_method == LocationMethod.THREAD
        assert light.category == "lighting"

    def test_a_reply_saying_same_here_keeps_the_category_of_its_source(self, push):
        push(post("Rue barrée par le chantier, plus rien ne passe", CAPITOLE, id="report"))
        same = "Chez nous aussi au bout de la rue, le camion ne peut pas livrer."
        push(post(same, None, id="same", reply_to="report"))
        assert classify(same).category == "traffic_parking"  # on its own words
        assert get("same").category == get("report").category == "works_obstruction"

    def test_a_reply_naming_its_sources_problem_among_others_keeps_its_category(self, push):
        push(post(POTHOLE, CAPITOLE, id="report"))
        more = "Et à pied aussi, le trou déborde jusqu'au passage piéton, une dame a trébuché"
        push(post(more, None, id="more", reply_to="report"))
        assert classify(more).category == "pedestrian_crossing_sidewalk"  # on its own words
        assert get("more").category == "road_surface_pothole"
        assert get("report").incident.category == "road_surface_pothole"

    def test_a_reply_naming_only_a_place_keeps_the_category_of_its_source(self, push):
        push(post(POTHOLE, CAPITOLE, id="report"))
        push(post("Je passe tous les jours sur le pont, c'est de pire en pire", None, id="bridge", reply_to="report"))
        assert get("bridge").category == get("report").category == "road_surface_pothole"

    def test_a_reply_telling_how_the_problem_is_lived_keeps_the_category_of_its_source(self, push):
        push(
            post(
                "Grosse branche tombée devant l'entrée du parc, elle bloque la moitié du chemin", CAPITOLE, id="report"
            )
        )
        pram = "saw it with the pram, had to go on the road. Hope they clear it soon"
        push(post(pram, None, id="pram", reply_to="report"))
        assert classify(pram).category == "pedestrian_crossing_sidewalk"  # on its own words, all weak ones
        assert get("pram").category == get("report").category == "vegetation"

    def test_a_conversation_goes_on_through_a_post_not_located(self, push):
        posts = conversation()
        push(posts["report"])
        push(posts["question"])
        push(posts["fixed"])
        assert get("question").state == PostState.IRRELEVANT
        assert get("fixed").thread_parent == get("report")
        assert get("fixed").incident == get("report").incident

    def test_a_reply_joins_a_resolved_incident_it_answers(self, push):
        posts = conversation()
        push(posts["report"], posts["question"])
        change_incident_status(get("report").incident, "resolved", note="Rebouché")
        push(posts["fixed"])
        assert get("fixed").incident == get("report").incident
        assert get("report").incident.status == "resolved"
        assert Incident.objects.count() == 1

    def test_a_reply_placed_from_its_conversation_moves_to_its_parent_when_it_arrives(self, push):
        root = post(POTHOLE, CAPITOLE, paris(2014, 9, 8, 9), id="root")
        parent = post(LIGHT, offset(CAPITOLE, east_m=500), paris(2014, 9, 8, 10), id="parent", reply_to="root")
        reply = post("still not fixed", None, paris(2014, 9, 9), id="reply", reply_to="parent", thread_root="root")
        push(root)
        push(reply)
        assert get("reply").thread_parent == get("root")
        push(parent)
        assert get("reply").thread_parent == get("parent")
        assert get("reply").incident == get("parent").incident
        assert get("root").incident.post_count == 1
        assert get("parent").incident.post_count == 2

    def test_an_authors_reply_to_their_own_report_continues_it(self, push):
        # Names no problem and no place: on its own it is about nothing.
        push(post(POTHOLE, CAPITOLE, id="report", author_id="u1"))
        push(post("Photo prise ce matin, ça dure depuis 3 semaines", None, id="more", author_id="u1",
                  reply_to="report", reply_to_author="u1"))  # fmt: skip
        more = get("more")
        assert more.reply_to_author == more.author_id == "u1"
        assert (more.state, more.location_method) == (PostState.LOCATED, LocationMethod.THREAD)
        assert more.incident == get("report").incident
        assert more.category == get("report").category
        assert get("report").incident.post_count == 2

    @pytest.mark.parametrize("author", ["u1", "u2"])
    def test_a_reply_that_names_no_problem_joins_whoever_writes_it(self, push, author):
        # "je passe là tous les jours", "ah oui vu ce matin": about the post it answers.
        push(post(POTHOLE, CAPITOLE, id="report", author_id="u1"))
        push(post("Photo prise ce matin, ça dure depuis 3 semaines", None, id="reply", author_id=author,
                  reply_to="report", reply_to_author="u1"))  # fmt: skip
        assert get("reply").incident == get("report").incident

    @pytest.mark.parametrize(
        ("author", "text"),
        [
            ("u2", "mdr bonne soirée"),  # banter
            ("u1", "Abonnez-vous à ma chaîne, code promo ici"),  # the author, off-topic
        ],
    )
    def test_off_topic_replies_stay_out(self, push, author, text):
        push(post(POTHOLE, CAPITOLE, id="report", author_id="u1"))
        push(post(text, None, id="reply", author_id=author, reply_to="report", reply_to_author="u1"))
        assert (get("reply").state, get("reply").incident) == (PostState.IRRELEVANT, None)

    def test_a_self_reply_stored_first_waits_for_its_report(self, push):
        push(post("Photo prise ce matin, ça dure depuis 3 semaines", None, id="more", author_id="u1",
                  reply_to="report", reply_to_author="u1"))  # fmt: skip
        assert (get("more").state, get("more").incident) == (PostState.UNLOCATED, None)
        push(post(POTHOLE, CAPITOLE, id="report", author_id="u1"))
        assert get("more").incident == get("report").incident


class TestOrder:
    """Whatever the order of batches (files, API calls, workers), the same incidents."""

    NAMES = ("report", "more", "still", "same", "chat", "question", "fixed")

    @pytest.fixture
    def expected(self, push):
        posts = conversation()
        push(*(posts[name] for name in self.NAMES))
        result = outcome()
        Post.objects.all().delete()
        Incident.objects.all().delete()
        return result

    def test_the_expected_outcome(self, expected):
        members = expected["report"][5]
        assert members == {"report", "more", "still", "same", "fixed"}
        assert expected["same"][2] == "still"
        assert expected["fixed"][2] == "report"

    @pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
    def test_every_order_of_batches(self, push, expected, order):
        posts = conversation()
        # Four batches: the report, the first reply, the reply to the reply, the question and its answer.
        batches = [["report"], ["still", "chat"], ["same", "more"], ["question", "fixed"]]
        for index in order:
            push(*(posts[name] for name in batches[index]))
        assert outcome() == expected

    def test_one_post_per_batch_newest_first(self, push, expected):
        posts = conversation()
        for name in sorted(self.NAMES, key=lambda name: posts[name]["posted_at"], reverse=True):
            push(posts[name])
        assert outcome() == expected


class TestPlatforms:
    def test_an_x_reply_finds_its_parent_by_id_and_its_conversation(self, db):
        def tweet(tweet_id, text, **fields):
            return {"id": tweet_id, "text": text, "created_at": "2014-09-08T08:00:00.000Z", "lang": "fr", **fields}

        page = {
            "data": [
                tweet("100", POTHOLE, geo={"coordinates": {"type": "Point", "coordinates": list(CAPITOLE.coords)}}),
                tweet(
                    "101",
                    "@marie toujours là 😡",
                    conversation_id="100",
                    referenced_tweets=[{"type": "replied_to", "id": "100"}],
                ),
                # Words that mean nothing alone continue the report; banter does not.
                *(
                    tweet(
                        tweet_id,
                        text,
                        author_id=author,
                        in_reply_to_user_id="42",
                        conversation_id="100",
                        referenced_tweets=[{"type": "replied_to", "id": "100"}],
                    )
                    for tweet_id, author, text in (("102", "42", "2/2 photo prise à 8h"), ("103", "43", "mdr 😂"))
                ),
            ]
        }
        page["data"][0]["author_id"] = "42"
        ingest(x.parse_document(page, position="page", source="x"), synchronous=True)
        reply = get("101")
        assert reply.reply_to == "100"
        assert reply.thread_root == "100"
        assert reply.thread_parent == get("100")
        assert reply.incident == get("100").incident
        assert (get("102").reply_to_author, get("102").incident) == ("42", get("100").incident)
        assert (get("103").reply_to_author, get("103").incident) == ("42", None)

    def test_a_mastodon_reply_finds_its_parent_by_its_instance_id(self, db, make_segment):
        make_segment("RUE DE METZ", [CAPITOLE.coords, offset(CAPITOLE, east_m=200).coords])

        def status(local_id, text, **fields):
            return {
                "id": local_id,
                "uri": f"https://piaille.fr/users/clara/statuses/{local_id}",
                "created_at": "2014-09-08T08:00:00.000Z",
                "content": f"<p>{text}</p>",
                "visibility": "public",
                "language": "fr",
                "account": {"id": "7", "acct": "clara"},
                **fields,
            }

        lines = [
            status("112233", "toujours pas réparé", in_reply_to_id="112200", in_reply_to_account_id="7"),
            status("112244", "Photo de 8h", in_reply_to_id="112200", in_reply_to_account_id="7"),  # the author's own
            status("112200", f"{POTHOLE} rue de Metz"),
        ]
        # The reply first: it waits, then the parent arrives in the next batch.
        for line in lines:
            ingest(
                mastodon.parse_document(json.loads(json.dumps(line)), position="", source="mastodon"), synchronous=True
            )
        reply = get("https://piaille.fr/users/clara/statuses/112233")
        parent = get("https://piaille.fr/users/clara/statuses/112200")
        assert (reply.local_id, reply.reply_to_local, reply.reply_to) == ("112233", "112200", "")
        assert reply.thread_parent == parent
        assert reply.incident == parent.incident
        assert reply.location_method == LocationMethod.THREAD
        more = get("https://piaille.fr/users/clara/statuses/112244")
        assert (more.reply_to_author, more.incident) == ("7", parent.incident)

    @pytest.mark.parametrize("order", list(itertools.permutations(["older", "report", "later", "reply"])))
    def test_a_mastodon_reply_read_on_another_instance_finds_its_parents_author(self, make_segment, order):
        for name, east_m in (("RUE DE METZ", 0), ("RUE D ALSACE LORRAINE", 800), ("RUE DE REMUSAT", 1600)):
            start = offset(CAPITOLE, east_m=east_m)
            make_segment(name, [start.coords, offset(start, east_m=200).coords])
        statuses = mastodon_cross_instance()
        for name in order:  # one batch each
            ingest(mastodon.parse_document(statuses[name], position="", source="mastodon"), synchronous=True)
        reply, report = get(statuses["reply"]["uri"]), get(statuses["report"]["uri"])
        assert (reply.reply_to_author, reply.author_id) == ("https://piaille.fr/@clara", "https://mamot.fr/@paul")
        assert (reply.reply_to, reply.reply_to_local) == ("", "998877")
        assert reply.thread_parent == report  # neither her older report nor her later one
        assert reply.incident == report.incident
        assert reply.category == report.category == "road_surface_pothole"
