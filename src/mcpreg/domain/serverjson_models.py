"""Pydantic models of ``server.json``, one class per definition of the official schema.

The models mirror the draft-07 ``server.schema.json`` of the official MCP registry
(``docs/reference/server-json/draft``): every definition, required key, type, length,
pattern and enum. Tests prove the agreement against the schema itself; nothing here
reads it at run time.

Shape rules that JSON Schema states and Pydantic does not do by default:

* Validation is strict: a string is a ``str``, a boolean a ``bool``, an array a ``list``.
  Nothing is coerced (``"true"`` is not a boolean, ``1`` is not a string).
* ``null`` is not a value of any property (the schema never allows ``"type": "null"``),
  so an optional key may be absent but not ``null``.
* No definition sets ``additionalProperties``, so unknown keys are allowed everywhere
  and kept (``extra="allow"``).
* Keys are the schema's camelCase names; snake_case spellings are unknown extra keys.
* ``anyOf`` unions (``Argument``, ``LocalTransport``, ``RemoteTransport``) are decided by
  their ``type`` key, because each branch requires ``type`` with a one-value enum.
* Patterns are anchored at the true start and end of the string (as in ECMA-262 and Go):
  a trailing newline does not satisfy ``$``, and ``\\d`` means ASCII ``[0-9]``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag, model_validator
from pydantic.alias_generators import to_camel
from pydantic.functional_validators import AfterValidator, field_validator
from pydantic_core import PydanticCustomError

NAME_PATTERN = r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$"
TRANSPORT_URL_PATTERN = r"^(https?://[^\s]+|\{[a-zA-Z_][a-zA-Z0-9_]*\}[^\s]*)$"
FILE_SHA256_PATTERN = r"^[a-f0-9]{64}$"
ICON_SIZE_PATTERN = r"^([0-9]+x[0-9]+|any)$"
PUBLISHER_PROVIDED_KEY = "io.modelcontextprotocol.registry/publisher-provided"

MimeType = Literal["image/png", "image/jpeg", "image/jpg", "image/svg+xml", "image/webp"]
InputFormat = Literal["string", "number", "boolean", "filepath"]


def _not_latest(value: str) -> str:
    if value == "latest":
        raise PydanticCustomError("not", 'must not be "latest"')
    return value


ServerName = Annotated[str, StringConstraints(min_length=3, max_length=200, pattern=NAME_PATTERN)]
Description = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ServerVersion = Annotated[str, StringConstraints(max_length=255)]
PackageVersion = Annotated[str, StringConstraints(min_length=1), AfterValidator(_not_latest)]
TransportUrl = Annotated[str, StringConstraints(pattern=TRANSPORT_URL_PATTERN)]
FileSha256 = Annotated[str, StringConstraints(pattern=FILE_SHA256_PATTERN)]
IconSrc = Annotated[str, StringConstraints(max_length=255)]
IconSize = Annotated[str, StringConstraints(pattern=ICON_SIZE_PATTERN)]


class SchemaNode(BaseModel):
    """Base of every server.json object: strict, camelCase keys, extras kept, immutable."""

    model_config = ConfigDict(
        strict=True,
        extra="allow",
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _null_is_not_a_value(cls, value: object) -> object:
        if value is None:
            raise PydanticCustomError("null", "must not be null")
        return value


class Input(SchemaNode):
    """``Input``: a value the user may be asked for."""

    choices: list[str] | None = None
    default: str | None = None
    description: str | None = None
    format: InputFormat | None = None
    is_required: bool = False
    is_secret: bool = False
    placeholder: str | None = None
    value: str | None = None


class InputWithVariables(Input):
    """``InputWithVariables``: an input whose ``value`` may use ``{variables}``."""

    variables: dict[str, Input] | None = None


class KeyValueInput(InputWithVariables):
    """``KeyValueInput``: a header or an environment variable."""

    name: str


class PositionalArgument(InputWithVariables):
    """``PositionalArgument``: a value inserted verbatim; needs ``value`` or ``valueHint``."""

    type: Literal["positional"]
    value_hint: str | None = None
    is_repeated: bool = False

    @model_validator(mode="after")
    def _value_or_hint(self) -> PositionalArgument:
        if self.value is None and self.value_hint is None:
            raise PydanticCustomError("anyOf", "must have value or valueHint")
        return self


class NamedArgument(InputWithVariables):
    """``NamedArgument``: a command-line ``--flag={value}``."""

    type: Literal["named"]
    name: str
    is_repeated: bool = False


def _type_tag(value: Any) -> str | None:
    """The ``type`` key that selects the branch of a union, or None when there is none."""
    if isinstance(value, dict):
        tag = value.get("type")
        return tag if isinstance(tag, str) else None
    tag = getattr(value, "type", None)
    return tag if isinstance(tag, str) else None


Argument = Annotated[
    Annotated[PositionalArgument, Tag("positional")] | Annotated[NamedArgument, Tag("named")],
    Discriminator(_type_tag),
]


class StdioTransport(SchemaNode):
    """``StdioTransport``."""

    type: Literal["stdio"]


class StreamableHttpTransport(SchemaNode):
    """``StreamableHttpTransport``: a URL template and optional headers."""

    type: Literal["streamable-http"]
    url: TransportUrl
    headers: list[KeyValueInput] | None = None


class SseTransport(SchemaNode):
    """``SseTransport``: a URL template and optional headers."""

    type: Literal["sse"]
    url: TransportUrl
    headers: list[KeyValueInput] | None = None


LocalTransport = Annotated[
    Annotated[StdioTransport, Tag("stdio")]
    | Annotated[StreamableHttpTransport, Tag("streamable-http")]
    | Annotated[SseTransport, Tag("sse")],
    Discriminator(_type_tag),
]


class StreamableHttpRemote(StreamableHttpTransport):
    """``RemoteTransport`` of type streamable-http, with URL ``variables``."""

    variables: dict[str, Input] | None = None


class SseRemote(SseTransport):
    """``RemoteTransport`` of type sse, with URL ``variables``."""

    variables: dict[str, Input] | None = None


RemoteTransport = Annotated[
    Annotated[StreamableHttpRemote, Tag("streamable-http")] | Annotated[SseRemote, Tag("sse")],
    Discriminator(_type_tag),
]


class Package(SchemaNode):
    """``Package``: how to fetch and run the server locally."""

    registry_type: str
    identifier: str
    version: PackageVersion | None = None
    registry_base_url: str | None = None
    file_sha256: FileSha256 | None = None
    runtime_hint: str | None = None
    transport: LocalTransport
    runtime_arguments: list[Argument] | None = None
    package_arguments: list[Argument] | None = None
    environment_variables: list[KeyValueInput] | None = None


class Repository(SchemaNode):
    """``Repository``: where the source code lives."""

    url: str
    source: str
    id: str | None = None
    subfolder: str | None = None


class Icon(SchemaNode):
    """``Icon``: an optionally sized icon."""

    src: IconSrc
    mime_type: MimeType | None = None
    sizes: list[IconSize] | None = None
    theme: Literal["light", "dark"] | None = None


class ServerMeta(SchemaNode):
    """``ServerDetail._meta``: extension metadata, reverse-DNS keyed."""

    publisher_provided: dict[str, Any] | None = Field(default=None, alias=PUBLISHER_PROVIDED_KEY)


class ServerDetail(SchemaNode):
    """``ServerDetail``: one server.json document (one release of one server)."""

    schema_uri: str | None = Field(default=None, alias="$schema")
    name: ServerName
    title: Title | None = None
    description: Description
    version: ServerVersion
    website_url: str | None = None
    repository: Repository | None = None
    icons: list[Icon] | None = None
    packages: list[Package] | None = None
    remotes: list[RemoteTransport] | None = None
    meta: ServerMeta | None = Field(default=None, alias="_meta")
