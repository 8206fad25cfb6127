import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Assistant(_message.Message):
    __slots__ = ("assistant_id", "graph_id", "name", "description", "config_json", "context_json", "metadata_json", "version", "created_at", "updated_at")
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_JSON_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    assistant_id: str
    graph_id: str
    name: str
    description: str
    config_json: str
    context_json: str
    metadata_json: str
    version: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, assistant_id: _Optional[str] = ..., graph_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., config_json: _Optional[str] = ..., context_json: _Optional[str] = ..., metadata_json: _Optional[str] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateAssistantRequest(_message.Message):
    __slots__ = ("graph_id", "assistant_id", "name", "description", "config_json", "context_json", "metadata_json", "if_exists_return")
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_JSON_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    IF_EXISTS_RETURN_FIELD_NUMBER: _ClassVar[int]
    graph_id: str
    assistant_id: str
    name: str
    description: str
    config_json: str
    context_json: str
    metadata_json: str
    if_exists_return: bool
    def __init__(self, graph_id: _Optional[str] = ..., assistant_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., config_json: _Optional[str] = ..., context_json: _Optional[str] = ..., metadata_json: _Optional[str] = ..., if_exists_return: _Optional[bool] = ...) -> None: ...

class CreateAssistantResponse(_message.Message):
    __slots__ = ("assistant", "created")
    ASSISTANT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    assistant: Assistant
    created: bool
    def __init__(self, assistant: _Optional[_Union[Assistant, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetAssistantRequest(_message.Message):
    __slots__ = ("assistant_id",)
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    assistant_id: str
    def __init__(self, assistant_id: _Optional[str] = ...) -> None: ...

class GetAssistantResponse(_message.Message):
    __slots__ = ("assistant",)
    ASSISTANT_FIELD_NUMBER: _ClassVar[int]
    assistant: Assistant
    def __init__(self, assistant: _Optional[_Union[Assistant, _Mapping]] = ...) -> None: ...

class UpdateAssistantRequest(_message.Message):
    __slots__ = ("assistant_id", "graph_id", "name", "description", "config_json", "context_json", "metadata_json")
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_JSON_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    assistant_id: str
    graph_id: str
    name: str
    description: str
    config_json: str
    context_json: str
    metadata_json: str
    def __init__(self, assistant_id: _Optional[str] = ..., graph_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., config_json: _Optional[str] = ..., context_json: _Optional[str] = ..., metadata_json: _Optional[str] = ...) -> None: ...

class UpdateAssistantResponse(_message.Message):
    __slots__ = ("assistant",)
    ASSISTANT_FIELD_NUMBER: _ClassVar[int]
    assistant: Assistant
    def __init__(self, assistant: _Optional[_Union[Assistant, _Mapping]] = ...) -> None: ...

class DeleteAssistantRequest(_message.Message):
    __slots__ = ("assistant_id",)
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    assistant_id: str
    def __init__(self, assistant_id: _Optional[str] = ...) -> None: ...

class DeleteAssistantResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SearchAssistantsRequest(_message.Message):
    __slots__ = ("graph_id", "metadata_json", "name", "page_size", "page_token")
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    graph_id: str
    metadata_json: str
    name: str
    page_size: int
    page_token: str
    def __init__(self, graph_id: _Optional[str] = ..., metadata_json: _Optional[str] = ..., name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SearchAssistantsResponse(_message.Message):
    __slots__ = ("assistants", "next_page_token")
    ASSISTANTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    assistants: _containers.RepeatedCompositeFieldContainer[Assistant]
    next_page_token: str
    def __init__(self, assistants: _Optional[_Iterable[_Union[Assistant, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CountAssistantsRequest(_message.Message):
    __slots__ = ("graph_id", "metadata_json", "name")
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    graph_id: str
    metadata_json: str
    name: str
    def __init__(self, graph_id: _Optional[str] = ..., metadata_json: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CountAssistantsResponse(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class ListAssistantVersionsRequest(_message.Message):
    __slots__ = ("assistant_id", "metadata_json", "page_size", "page_token")
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    assistant_id: str
    metadata_json: str
    page_size: int
    page_token: str
    def __init__(self, assistant_id: _Optional[str] = ..., metadata_json: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAssistantVersionsResponse(_message.Message):
    __slots__ = ("versions", "next_page_token")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[Assistant]
    next_page_token: str
    def __init__(self, versions: _Optional[_Iterable[_Union[Assistant, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SetLatestAssistantVersionRequest(_message.Message):
    __slots__ = ("assistant_id", "version")
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    assistant_id: str
    version: int
    def __init__(self, assistant_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class SetLatestAssistantVersionResponse(_message.Message):
    __slots__ = ("assistant",)
    ASSISTANT_FIELD_NUMBER: _ClassVar[int]
    assistant: Assistant
    def __init__(self, assistant: _Optional[_Union[Assistant, _Mapping]] = ...) -> None: ...

class GetAssistantSchemasRequest(_message.Message):
    __slots__ = ("assistant_id",)
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    assistant_id: str
    def __init__(self, assistant_id: _Optional[str] = ...) -> None: ...

class GetAssistantSchemasResponse(_message.Message):
    __slots__ = ("graph_id", "input_schema_json", "output_schema_json", "state_schema_json", "config_schema_json", "context_schema_json")
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    STATE_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    CONFIG_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    graph_id: str
    input_schema_json: str
    output_schema_json: str
    state_schema_json: str
    config_schema_json: str
    context_schema_json: str
    def __init__(self, graph_id: _Optional[str] = ..., input_schema_json: _Optional[str] = ..., output_schema_json: _Optional[str] = ..., state_schema_json: _Optional[str] = ..., config_schema_json: _Optional[str] = ..., context_schema_json: _Optional[str] = ...) -> None: ...

class GetAssistantGraphRequest(_message.Message):
    __slots__ = ("assistant_id", "xray")
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    XRAY_FIELD_NUMBER: _ClassVar[int]
    assistant_id: str
    xray: int
    def __init__(self, assistant_id: _Optional[str] = ..., xray: _Optional[int] = ...) -> None: ...

class GetAssistantGraphResponse(_message.Message):
    __slots__ = ("graph_json", "mermaid")
    GRAPH_JSON_FIELD_NUMBER: _ClassVar[int]
    MERMAID_FIELD_NUMBER: _ClassVar[int]
    graph_json: str
    mermaid: str
    def __init__(self, graph_json: _Optional[str] = ..., mermaid: _Optional[str] = ...) -> None: ...

class GetAssistantSubgraphsRequest(_message.Message):
    __slots__ = ("assistant_id", "namespace", "recurse")
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    RECURSE_FIELD_NUMBER: _ClassVar[int]
    assistant_id: str
    namespace: str
    recurse: bool
    def __init__(self, assistant_id: _Optional[str] = ..., namespace: _Optional[str] = ..., recurse: _Optional[bool] = ...) -> None: ...

class SubgraphSchemas(_message.Message):
    __slots__ = ("namespace", "input_schema_json", "output_schema_json", "state_schema_json", "config_schema_json", "context_schema_json")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    STATE_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    CONFIG_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    input_schema_json: str
    output_schema_json: str
    state_schema_json: str
    config_schema_json: str
    context_schema_json: str
    def __init__(self, namespace: _Optional[str] = ..., input_schema_json: _Optional[str] = ..., output_schema_json: _Optional[str] = ..., state_schema_json: _Optional[str] = ..., config_schema_json: _Optional[str] = ..., context_schema_json: _Optional[str] = ...) -> None: ...

class GetAssistantSubgraphsResponse(_message.Message):
    __slots__ = ("subgraphs",)
    SUBGRAPHS_FIELD_NUMBER: _ClassVar[int]
    subgraphs: _containers.RepeatedCompositeFieldContainer[SubgraphSchemas]
    def __init__(self, subgraphs: _Optional[_Iterable[_Union[SubgraphSchemas, _Mapping]]] = ...) -> None: ...
