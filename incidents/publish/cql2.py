"""
CQL2 text filters (OGC API – Features Part 3) over a layer's published properties.

:func:`parse_filter` reads a CQL2 text expression and returns a Django ``Q`` built from
lookups on the same SQL expressions the layer publishes (:mod:`incidents.publish.layers`),
so every literal reaches PostgreSQL as a query parameter and a property is filtered
exactly as it is published. Supported:

- comparisons ``= <> < > <= >=``, ``AND``/``OR``/``NOT``, parentheses;
- ``LIKE`` (``%`` and ``_``), ``BETWEEN … AND …``, ``IN (…)``, ``IS [NOT] NULL``;
- ``S_INTERSECTS(geometry, <WKT or BBOX(…)>)`` (literals in ``filter-crs``, CRS84 by default);
- ``T_INTERSECTS``, ``T_AFTER``, ``T_BEFORE`` on date-time properties, ``INTERVAL(…)`` of
  properties or literals (``'..'`` open), ``TIMESTAMP('…')`` and ``DATE('…')`` (a local day);
- ``A_OVERLAPS``, ``A_CONTAINS``, ``A_CONTAINEDBY``, ``A_EQUALS`` of an array property (who an
  incident affects) and a list of text literals: ``A_OVERLAPS(affects, ('cyclists', 'pedestrians'))``.

Anything else is a :class:`CQL2Error` whose message says what is wrong and where.
Logic is SQL's: a comparison with a NULL value is unknown, so neither it nor its ``NOT``
selects the feature.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.contrib.postgres.lookups import ContainedBy, DataContains, Overlap
from django.db.models import BigIntegerField, BooleanField, DateTimeField, F, FloatField, Lookup, Q, TextField, Value
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, In, IsNull, LessThan, LessThanOrEqual
from django.utils.translation import gettext as _

from incidents.publish.crs import CRS, CRS84
from incidents.publish.filters import parse_instant
from incidents.publish.layers import Layer

# Deepest nesting of parentheses and NOTs accepted (Python recursion stays far below its limit).
MAX_DEPTH = 40
GEOMETRY = "geometry"
WKT_TYPES = {"POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"}
SPATIAL = {"S_INTERSECTS"}
TEMPORAL = {"T_INTERSECTS", "T_AFTER", "T_BEFORE"}
# Array functions, as lookups of PostgreSQL's array operators (&&, @>, <@); A_EQUALS is both of the last
# two: the same elements, whatever their order (the arrays published are sorted sets).
ARRAYS = {
    "A_OVERLAPS": (Overlap,),
    "A_CONTAINS": (DataContains,),
    "A_CONTAINEDBY": (ContainedBy,),
    "A_EQUALS": (DataContains, ContainedBy),
}
# Functions of CQL2 we do not implement: named in the error so the client knows it is not a typo.
UNSUPPORTED = {
    *("S_EQUALS", "S_DISJOINT", "S_TOUCHES", "S_WITHIN", "S_OVERLAPS", "S_CROSSES", "S_CONTAINS"),
    *("T_CONTAINS", "T_DISJOINT", "T_DURING", "T_EQUALS", "T_FINISHEDBY", "T_FINISHES", "T_MEETS", "T_METBY"),
    *("T_OVERLAPPEDBY", "T_OVERLAPS", "T_STARTEDBY", "T_STARTS"),
    *("CASEI", "ACCENTI"),
}
COMPARISONS = {"=": Exact, "<": LessThan, ">": GreaterThan, "<=": LessThanOrEqual, ">=": GreaterThanOrEqual}
KINDS = {"string": TextField, "number": FloatField, "boolean": BooleanField, "timestamp": DateTimeField}

TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<quoted>"(?:[^"]|"")+")
      | (?P<op><>|<=|>=|[=<>(),])
    )""",
    re.VERBOSE,
)


class CQL2Error(ValueError):
    """A filter that cannot be understood or is not supported; the message is for the client."""


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, name, quoted, op, end
    text: str
    start: int
    end: int

    @property
    def word(self) -> str:
        return self.text.upper() if self.kind == "name" else ""


def tokenize(text: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None:
            start = len(text) - len(text[position:].lstrip())
            raise CQL2Error(
                _("Unexpected character %(char)r at position %(pos)d.") % {"char": text[start], "pos": start}
            )
        kind = match.lastgroup
        tokens.append(Token(kind, match.group(kind), match.start(kind), match.end(kind)))
        position = match.end()
    tokens.append(Token("end", "", len(text), len(text)))
    return tokens


@dataclass(frozen=True)
class Queryable:
    """A property a filter may name: its SQL expression and its kind (string, number, ...)."""

    name: str
    expression: Any
    kind: str
    schema: dict


def _kind(schema: dict) -> str:
    if schema.get("type") == "string" and schema.get("format") == "date-time":
        return "timestamp"
    return {"integer": "number", "number": "number", "boolean": "boolean", "string": "string"}.get(
        schema.get("type"), "array"
    )


def queryables(layer: Layer) -> dict[str, Queryable]:
    """The properties of ``layer`` a filter may use: ``id`` and every published property."""
    found = {"id": Queryable("id", F("pk"), "number", {"type": "integer", "description": _("Feature id.")})}
    for prop in layer.properties:
        found[prop.name] = Queryable(prop.name, prop.expression, _kind(prop.schema), prop.schema)
    return found


@dataclass(frozen=True)
class Operand:
    """A value in an expression: a property (``expression`` set) or a literal (``value``)."""

    kind: str
    expression: Any = None
    value: Any = None
    name: str = ""
    # A date literal is a whole day: its end, for temporal functions.
    until: Any = None

    @property
    def is_property(self) -> bool:
        return self.expression is not None

    def sql(self):
        if self.is_property:
            return self.expression
        # Whole numbers stay integers: an id compared with a float would not use its index.
        field = BigIntegerField if isinstance(self.value, int) and self.kind == "number" else KINDS[self.kind]
        return Value(self.value, output_field=field())

    def describe(self) -> str:
        return self.name or repr(self.value)


@dataclass(frozen=True)
class Bound:
    """An end of a time interval: an expression, or ``None`` for an open end ('..')."""

    sql: Any
    # A property's NULL end means "still going on" (an open-ended works zone).
    null_is_open: bool = False


class Like(Lookup):
    """``lhs LIKE pattern``: CQL2's wildcards are SQL's (``%``, ``_``, escaped with ``\\``)."""

    lookup_name = "cql2_like"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", [*lhs_params, *rhs_params]


NOTHING = Q(pk__in=[])


class Parser:
    """Recursive descent over the tokens; each rule returns a ``Q``."""

    def __init__(self, text: str, layer: Layer, crs: CRS):
        self.text = text
        self.layer = layer
        self.crs = crs
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.queryables = queryables(layer)

    # --- tokens ---

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.token
        if token.kind != "end":
            self.index += 1
        return token

    def accept(self, word: str) -> bool:
        if self.token.word == word or (self.token.kind == "op" and self.token.text == word):
            self.advance()
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            self.fail(_("expected %(expected)s") % {"expected": word})

    def fail(self, reason: str):
        token = self.token
        found = _("the end of the filter") if token.kind == "end" else repr(token.text)
        raise CQL2Error(
            _("%(reason)s at position %(pos)d, found %(found)s.")
            % {"reason": reason, "pos": token.start, "found": found}
        )

    # --- boolean structure ---

    def parse(self) -> Q:
        if self.token.kind == "end":
            raise CQL2Error(_("The filter is empty."))
        condition = self.disjunction()
        if self.token.kind != "end":
            self.fail(_("expected AND, OR or the end of the filter"))
        return condition

    def nested(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise CQL2Error(_("The filter is nested too deeply (at most %(max)d levels).") % {"max": MAX_DEPTH})

    def disjunction(self) -> Q:
        condition = self.conjunction()
        while self.accept("OR"):
            condition = condition | self.conjunction()
        return condition

    def conjunction(self) -> Q:
        condition = self.negation()
        while self.accept("AND"):
            condition = condition & self.negation()
        return condition

    def negation(self) -> Q:
        if self.accept("NOT"):
            self.nested()
            condition = ~self.negation()
            self.depth -= 1
            return condition
        return self.primary()

    def primary(self) -> Q:
        if self.token.kind == "op" and self.token.text == "(":
            self.advance()
            self.nested()
            condition = self.disjunction()
            self.depth -= 1
            self.expect(")")
            return condition
        word = self.token.word
        if word in SPATIAL:
            return self.spatial()
        if word in TEMPORAL:
            return self.temporal()
        if word in ARRAYS:
            return self.array()
        if word in UNSUPPORTED:
            raise CQL2Error(
                _(
                    "%(function)s is not supported; the functions are S_INTERSECTS, T_INTERSECTS, T_AFTER, T_BEFORE, "
                    "A_OVERLAPS, A_CONTAINS, A_CONTAINEDBY and A_EQUALS."
                )
                % {"function": word}
            )
        return self.predicate()

    # --- predicates ---

    def predicate(self) -> Q:
        left = self.scalar()
        token = self.token
        if token.kind == "op" and token.text in (*COMPARISONS, "<>"):
            self.advance()
            right = self.scalar()
            self.check_comparable(left, right)
            if token.text == "<>":
                return ~Q(Exact(left.sql(), right.sql()))
            return Q(COMPARISONS[token.text](left.sql(), right.sql()))
        negated = self.accept("NOT")
        if self.accept("LIKE"):
            pattern = self.scalar()
            if left.kind != "string" or pattern.kind != "string" or pattern.is_property:
                raise CQL2Error(
                    _("LIKE compares a text property with a text pattern such as 'rue%%', not %(operand)s.")
                    % {"operand": left.describe() if left.kind != "string" else pattern.describe()}
                )
            condition = Q(Like(left.sql(), pattern.sql()))
        elif self.accept("BETWEEN"):
            low = self.scalar()
            self.expect("AND")
            high = self.scalar()
            self.check_comparable(left, low)
            self.check_comparable(left, high)
            condition = Q(GreaterThanOrEqual(left.sql(), low.sql())) & Q(LessThanOrEqual(left.sql(), high.sql()))
        elif self.accept("IN"):
            self.expect("(")
            values = [self.scalar()]
            while self.accept(","):
                values.append(self.scalar())
            self.expect(")")
            for value in values:
                self.check_comparable(left, value)
                if value.is_property:
                    raise CQL2Error(
                        _("IN takes a list of literal values, not the property %(name)s.") % {"name": value.name}
                    )
            condition = Q(In(left.sql(), [value.sql() for value in values]))
        elif not negated and self.accept("IS"):
            is_not = self.accept("NOT")
            self.expect("NULL")
            condition = Q(IsNull(left.sql(), not is_not))
            return condition
        elif not negated and left.kind == "boolean":
            # A boolean property (or TRUE/FALSE) alone is a predicate.
            return Q(Exact(left.sql(), Value(True)))
        else:
            self.fail(_("expected a comparison (=, <>, <, >, <=, >=, LIKE, BETWEEN, IN or IS NULL)"))
        return ~condition if negated else condition

    def array(self) -> Q:
        """``A_xxx(property, ('a', 'b', …))``: an array property against a list of text literals."""
        function = self.advance().word
        self.expect("(")
        prop = self.property()
        if prop.kind != "array":
            raise CQL2Error(
                _("%(function)s compares an array property (%(names)s) with a list, not %(name)s.")
                % {
                    "function": function,
                    "name": prop.name,
                    "names": ", ".join(name for name, q in self.queryables.items() if q.kind == "array"),
                }
            )
        self.expect(",")
        self.expect("(")
        values: list[str] = []
        while not (self.token.kind == "op" and self.token.text == ")"):
            if values:
                self.expect(",")
            value = self.scalar()
            if value.is_property or value.kind != "string":
                raise CQL2Error(
                    _("%(function)s takes a list of text literals such as ('cyclists').") % {"function": function}
                )
            values.append(value.value)
        self.expect(")")
        self.expect(")")
        condition = Q()
        for lookup in ARRAYS[function]:
            condition &= Q(lookup(prop.sql(), values))
        return condition

    def check_comparable(self, left: Operand, right: Operand) -> None:
        if left.kind != right.kind:
            hint = ""
            if "timestamp" in (left.kind, right.kind):
                hint = " " + _("Write instants as TIMESTAMP('2014-09-01T08:00:00Z').")
            raise CQL2Error(
                _("Cannot compare %(left)s (%(left_kind)s) with %(right)s (%(right_kind)s).")
                % {"left": left.describe(), "left_kind": left.kind, "right": right.describe(), "right_kind": right.kind}
                + hint
            )

    # --- operands ---

    def scalar(self) -> Operand:
        token = self.token
        if token.kind == "string":
            self.advance()
            return Operand("string", value=token.text[1:-1].replace("''", "'"))
        if token.kind == "number":
            value = self.number()
            return Operand("number", value=int(token.text) if re.fullmatch(r"[+-]?\d{1,18}", token.text) else value)
        if token.word in ("TRUE", "FALSE"):
            self.advance()
            return Operand("boolean", value=token.word == "TRUE")
        if token.word == "TIMESTAMP":
            return self.timestamp()
        if token.word == "DATE":
            return self.date()
        if token.kind in ("name", "quoted"):
            return self.property()
        self.fail(_("expected a property, a text in single quotes, a number, TRUE, FALSE or TIMESTAMP(…)"))

    def property(self) -> Operand:
        token = self.advance()
        name = token.text[1:-1].replace('""', '"') if token.kind == "quoted" else token.text
        found = self.queryables.get(name)
        if found is None:
            if name == GEOMETRY:
                raise CQL2Error(_("The geometry is only compared through S_INTERSECTS(geometry, …)."))
            raise CQL2Error(
                _("Unknown property %(name)r; the queryables of %(layer)s are: %(names)s.")
                % {"name": name, "layer": self.layer.name, "names": ", ".join(self.queryables)}
            )
        return Operand(found.kind, expression=found.expression, name=name)

    def string_argument(self, function: str) -> str:
        self.expect("(")
        token = self.token
        if token.kind != "string":
            self.fail(_("%(function)s takes a text in single quotes") % {"function": function})
        self.advance()
        self.expect(")")
        return token.text[1:-1]

    def instant(self, text: str, *, end: bool) -> dt.datetime:
        try:
            return parse_instant(text, end=end)
        except forms.ValidationError as error:
            raise CQL2Error(" ".join(error.messages)) from None

    def timestamp(self) -> Operand:
        self.advance()
        text = self.string_argument("TIMESTAMP")
        if len(text) == 10:
            raise CQL2Error(
                _("TIMESTAMP needs a date and a time; use DATE('%(day)s') for a whole day.") % {"day": text}
            )
        return Operand("timestamp", value=self.instant(text, end=False))

    def date(self) -> Operand:
        self.advance()
        text = self.string_argument("DATE")
        if len(text) != 10:
            raise CQL2Error(_("DATE takes a day such as '2014-09-01'."))
        return Operand("date", value=self.instant(text, end=False), until=self.instant(text, end=True))

    # --- spatial ---

    def spatial(self) -> Q:
        self.advance()
        self.expect("(")
        arguments = [self.geometry_argument()]
        self.expect(",")
        arguments.append(self.geometry_argument())
        self.expect(")")
        literals = [argument for argument in arguments if argument is not None]
        if len(literals) != 1:
            raise CQL2Error(_("S_INTERSECTS compares the property geometry with one geometry literal."))
        (literal,) = literals
        if self.layer.is_point and literal.equals(literal.envelope):
            # A point meets a rectangle when it meets its box: the index test alone, as the REST
            # bbox filter does (ST_Intersects would select the same rows with a worse plan).
            return Q(**{f"{self.layer.geometry}__bboverlaps": literal})
        return Q(**{f"{self.layer.geometry}__intersects": literal})

    def geometry_argument(self) -> GEOSGeometry | None:
        """``None`` for the ``geometry`` property, else the literal in CRS84."""
        token = self.token
        if token.kind in ("name", "quoted") and token.text.strip('"') == GEOMETRY:
            self.advance()
            return None
        if token.word == "BBOX":
            self.advance()
            self.expect("(")
            numbers = [self.number()]
            while self.accept(","):
                numbers.append(self.number())
            self.expect(")")
            if len(numbers) == 6:  # a 3D box: heights do not matter to our 2D features
                numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
            if len(numbers) != 4 or numbers[0] > numbers[2] or numbers[1] > numbers[3]:
                raise CQL2Error(_("BBOX takes four numbers: minx, miny, maxx, maxy (in filter-crs)."))
            return self.crs.box_to_storage(tuple(numbers))
        if token.word in WKT_TYPES:
            return self.wkt()
        self.fail(_("expected the property geometry, a WKT geometry such as POINT(1.44 43.6), or BBOX(…)"))

    def number(self) -> float:
        token = self.token
        if token.kind != "number":
            self.fail(_("expected a number"))
        self.advance()
        value = float(token.text)
        if not math.isfinite(value):
            raise CQL2Error(_("%(number)s is not a finite number.") % {"number": token.text})
        return value

    def wkt(self) -> GEOSGeometry:
        start = self.advance().start
        depth, end = 0, None
        while self.token.kind != "end":
            token = self.advance()
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth -= 1
                if depth == 0:
                    end = token.end
                    break
        if end is None:
            raise CQL2Error(_("The geometry starting at position %(pos)d is not closed.") % {"pos": start})
        text = self.text[start:end]
        try:
            geometry = GEOSGeometry(text)
        except (GEOSException, ValueError, TypeError):
            raise CQL2Error(_("%(wkt)r is not a WKT geometry.") % {"wkt": text}) from None
        if geometry.empty or not all(math.isfinite(value) for value in geometry.extent):
            raise CQL2Error(_("%(wkt)r is empty or has coordinates that are not finite.") % {"wkt": text})
        if not geometry.valid:
            raise CQL2Error(
                _("%(wkt)r is not a valid geometry: %(reason)s.") % {"wkt": text, "reason": geometry.valid_reason}
            )
        return self.crs.to_storage(geometry)

    # --- temporal ---

    def temporal(self) -> Q:
        function = self.advance().word
        self.expect("(")
        first = self.interval()
        self.expect(",")
        second = self.interval()
        self.expect(")")
        (a_start, a_end), (b_start, b_end) = first, second
        if function == "T_AFTER":
            return self.compare(a_start, ">", b_end)
        if function == "T_BEFORE":
            return self.compare(a_end, "<", b_start)
        return self.compare(a_start, "<=", b_end) & self.compare(a_end, ">=", b_start)

    @staticmethod
    def compare(left: Bound, operator: str, right: Bound) -> Q:
        """``left operator right`` where an open end makes ``<=``/``>=`` true and ``<``/``>`` false."""
        if left.sql is None or right.sql is None:
            return Q() if operator in ("<=", ">=") else NOTHING
        condition = Q(COMPARISONS[operator](left.sql, right.sql))
        # An open end is later than everything and earlier than nothing.
        for bound, open_wins in ((left, operator in (">", ">=")), (right, operator in ("<", "<="))):
            if bound.null_is_open and open_wins:
                condition |= Q(IsNull(bound.sql, True))
        return condition

    def interval(self) -> tuple[Bound, Bound]:
        """A temporal operand as (start, end) bounds."""
        token = self.token
        if token.word == "INTERVAL":
            self.advance()
            self.expect("(")
            start = self.interval_end(end=False)
            self.expect(",")
            end = self.interval_end(end=True)
            self.expect(")")
            return start, end
        operand = self.scalar()
        if operand.kind == "date":
            return Bound(Value(operand.value, output_field=DateTimeField())), Bound(
                Value(operand.until, output_field=DateTimeField())
            )
        if operand.kind != "timestamp":
            raise CQL2Error(
                _("%(operand)s is not a date-time: use a date-time property, TIMESTAMP(…), DATE(…) or INTERVAL(…).")
                % {"operand": operand.describe()}
            )
        bound = Bound(operand.sql(), null_is_open=operand.is_property)
        return bound, bound

    def interval_end(self, *, end: bool) -> Bound:
        token = self.token
        if token.kind == "string":
            self.advance()
            text = token.text[1:-1]
            if text in ("..", ""):
                return Bound(None)
            return Bound(Value(self.instant(text, end=end), output_field=DateTimeField()))
        operand = self.scalar()
        if operand.kind == "date":
            return Bound(Value(operand.until if end else operand.value, output_field=DateTimeField()))
        if operand.kind != "timestamp":
            raise CQL2Error(
                _("INTERVAL takes date-time properties, TIMESTAMP(…), DATE(…) or texts ('..': open), not %(operand)s.")
                % {"operand": operand.describe()}
            )
        return Bound(operand.sql(), null_is_open=operand.is_property)


def parse_filter(text: str, layer: Layer, crs: CRS = CRS84) -> Q:
    """The ``Q`` selecting the features of ``layer`` that match the CQL2 text ``text``."""
    return Parser(text, layer, crs).parse()
